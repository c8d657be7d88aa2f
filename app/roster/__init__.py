"""Rosters from and to Excel (名单与台账): enterprise rosters, cadre rosters and 包联 lists. See service.py."""
