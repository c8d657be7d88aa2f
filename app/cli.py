"""Command line (DESIGN §8): headless init, demo data, statistics, printing and checks over the same services as the GUI.

main.py opens the GUI when there is no subcommand and calls `main(argv)` otherwise (see `wants_cli`).
Output for people is Chinese; `--json` output is for scripts (UTF-8, ensure_ascii=False).

Exit codes: 0 success; 2 usage error (bad arguments, a --db that does not exist or cannot be read);
3 input rejected (any AppError: invalid value, damaged or foreign database...) with `错误：…` on stderr;
1 unexpected failure (a bug), with a short traceback on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sqlite3
import sys
import traceback
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from app import SUBCOMMANDS, __version__
from app.datadir import ENV_VAR, default_db_path
from app.errors import AppError, NotFoundError, StoreError, ValidationError

ROLE_CHOICES = ("station", "district", "city")
ROLE_LABELS = {"station": "干部端", "district": "区县汇总端", "city": "市级汇总端"}
DEFAULT_OPERATORS = {"district": "管理员", "city": "管理员"}  # a station names its cadre: --operator is required
BY_CHOICES = ("unit", "category", "department", "level", "month", "cadre")
PRINT_FORMS = ("visit", "problem", "ledger", "enterprise", "report")

# Tables whose record counts `check` reports (not deleted rows), with their Chinese names.
CHECK_TABLES = (
    ("units", "单位"),
    ("work_groups", "工作组"),
    ("cadres", "助企干部"),
    ("enterprises", "企业"),
    ("assignments", "包联关系"),
    ("visits", "走访记录"),
    ("visit_enterprises", "走访企业（家次）"),
    ("problems", "企业问题"),
    ("problem_events", "办理过程"),
    ("audit_log", "操作留痕"),
)
# SQLite messages that mean "this file is bad", not "this program is wrong".
_BAD_FILE = ("malformed", "not a database", "file is encrypted", "disk i/o", "locked", "readonly", "unable to open")


class UsageError(Exception):
    """Wrong use of the command line (exit 2); the message is Chinese and shown as is."""


# ------------------------------------------------------------------------------------------------
# argparse in Chinese
# ------------------------------------------------------------------------------------------------

_TOP = (
    (re.compile(r"^the following arguments are required: (.*)$", re.S), "缺少必需的参数：{0}"),
    (re.compile(r"^unrecognized arguments: (.*)$", re.S), "无法识别的参数：{0}"),
    (re.compile(r"^one of the arguments (.*) is required$", re.S), "必须提供以下参数之一：{0}"),
    (re.compile(r"^ambiguous option: (.*) could match (.*)$", re.S), "选项 {0} 有歧义，可能是：{1}"),
)
_ARGUMENT = re.compile(r"^argument (.+?): (.*)$", re.S)
_INNER = (
    (re.compile(r"^invalid choice: (.*) \(choose from (.*)\)$", re.S), "值 {0} 无效，可选：{1}"),
    (re.compile(r"^expected one argument$"), "需要一个值"),
    (re.compile(r"^invalid \w+ value: (.*)$", re.S), "值 {0} 无效"),
    (re.compile(r"^not allowed with argument (.*)$", re.S), "不能与参数 {0} 同时使用"),
    (re.compile(r"^ignored explicit argument (.*)$", re.S), "不接受参数值 {0}"),
)


def _translate(message: str, command_dest: str) -> str:
    for pattern, text in _TOP:
        m = pattern.match(message)
        if m:
            return text.format(*m.groups())
    m = _ARGUMENT.match(message)
    if not m:
        return message
    name, inner = m.groups()
    if name == command_dest:
        choice = _INNER[0][0].match(inner)
        if choice:
            return f"未知的子命令 {choice.group(1)}，可用的子命令：{'、'.join(sorted(SUBCOMMANDS))}"
    for pattern, text in _INNER:
        im = pattern.match(inner)
        if im:
            return f"参数 {name}：" + text.format(*im.groups())
    return f"参数 {name}：{inner}"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser with Chinese section titles, help option and error messages (exit 2)."""

    COMMAND_DEST = "command"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{_translate(message, self.COMMAND_DEST)}\n（运行 {self.prog} -h 查看帮助）\n")


def _a_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}”不是有效日期，格式应为 YYYY-MM-DD（例如 2026-03-15）") from None


def _month_end(day: date) -> date:
    return (date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)) - timedelta(days=1)


def _a_month(value: str) -> tuple[date, date]:
    """YYYY-MM -> (first day, last day) of that month."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", value)
    if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1:
        year, month = int(m.group(1)), int(m.group(2))
        first = date(year, month, 1)
        return first, _month_end(first)
    raise argparse.ArgumentTypeError(f"“{value}”不是有效月份，格式应为 YYYY-MM（例如 2026-03）")


def _a_seed(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{value}”不是整数") from None


def _default_db_text() -> str:
    try:
        return str(default_db_path())
    except Exception:  # pragma: no cover - platformdirs cannot fail in practice; help must never crash
        return "用户数据目录下的 zhuqi.db"


def build_parser(prog: str = "main.py") -> argparse.ArgumentParser:
    """The whole command line. `parse_args([])` gives command=None: main.py then opens the GUI."""
    default_db = _default_db_text()
    parser = _Parser(
        prog=prog,
        description=(
            "助企工作台（郑州市“万人助万企”活动）\n"
            "不带子命令运行时打开图形界面；带子命令时在命令行完成工作：结果写到标准输出，\n"
            "错误和提示（中文）写到标准错误。"
        ),
        epilog=(
            "示例：\n"
            f"  python {prog} init  --db 金水区.db --role station --unit 金水区 --operator 王磊\n"
            f"  python {prog} demo  --db 演示.db --size small\n"
            f"  python {prog} stats --db 演示.db --json\n"
            f"  python {prog} stats --db 演示.db --by unit --from 2026-01-01 --to 2026-06-30\n"
            f"  python {prog} print visit --db 演示.db --all --month 2026-03 --out 走访记录表.pdf\n"
            f"  python {prog} print ledger --db 演示.db --out 问题台账.pdf\n"
            f"  python {prog} roster import 企业名单.xlsx --db 演示.db --dry-run\n"
            f"  python {prog} roster export --db 演示.db --out 企业名单.xlsx\n"
            f"  python {prog} check --db 演示.db\n"
            f"  python {prog} --self-test         自检（数据库、打印、同步、界面），在临时文件夹中进行，通过时退出码 0\n"
            f"  python {prog} 子命令 -h            查看子命令的全部选项\n\n"
            "退出码：0 成功；2 用法错误（参数有误、数据库文件不存在或无法读取）；\n"
            "        3 输入被拒绝（数据不合规、数据库损坏或不是本程序的文件，原因见标准错误）；1 意外错误。\n"
            f"默认数据库：{default_db}\n"
            f"（设置环境变量 {ENV_VAR} 可更换数据目录；--db 指定具体文件。数据库不要放在U盘或网络驱动器上。）"
        ),
    )
    parser.add_argument(
        "--db",
        dest="global_db",
        metavar="PATH",
        help="数据库文件（图形界面和所有子命令通用；默认为用户数据目录下的 zhuqi.db）",
    )
    parser.add_argument("--version", action="version", version=f"助企工作台 {__version__}", help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", title="子命令", parser_class=_Parser)

    def db_option(p, *, new: bool = False):
        p.add_argument(
            "--db",
            metavar="PATH",
            help=("数据库文件路径（不存在时新建）" if new else "数据库文件路径（必须已存在）")
            + f"；默认为用户数据目录下的 zhuqi.db（见 {prog} -h）",
        )

    p = sub.add_parser(
        "init",
        help="初始化数据库（首次设置：本机角色、所属单位、操作人）",
        description="初始化数据库：确定本机角色、所属单位和操作人，生成本机标识。\n"
        "一个数据库只能初始化一次；干部端的操作人同时登记为助企干部。",
    )
    db_option(p, new=True)
    p.add_argument(
        "--role",
        required=True,
        choices=ROLE_CHOICES,
        metavar="{station,district,city}",
        help="本机角色：station 干部端，district 区县汇总端，city 市级汇总端",
    )
    p.add_argument(
        "--unit",
        required=True,
        metavar="NAME",
        help="所属单位：16 个开发区、区县（市）之一的全称或简称（如 金水区、金水、郑东新区、巩义市）；"
        "市级汇总端为 郑州市",
    )
    p.add_argument(
        "--operator", metavar="NAME", help="操作人姓名（干部端必填，将登记为本机的助企干部；汇总端默认为“管理员”）"
    )
    p.add_argument("--json", action="store_true", help="以 JSON 输出本机身份")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser(
        "demo",
        help="生成逼真的演示数据（企业、干部、包联、走访、问题及办理过程，均为虚构）",
        description="生成逼真的演示数据：工作组、助企干部、企业、包联关系、走访记录、企业问题及其\n"
        "交办、办理、督办、办结、回访、销号全过程（姓名、企业、代码、电话均为虚构）。\n"
        "数据库未初始化时先初始化为金水区干部端（操作人 王磊）。\n"
        "只写入没有业务数据的数据库，以免与真实数据混在一起被同步上报。",
    )
    db_option(p, new=True)
    p.add_argument(
        "--size",
        choices=("small", "city"),
        default="small",
        metavar="{small,city}",
        help="规模：small（默认）一个干部端的数据量，约 60 家企业、150 条走访、80 个问题，几秒完成；"
        "city 全市规模：211 个工作组、5,084 名干部、12,327 家包联企业、24,570 走访家次、"
        "9,493 场座谈会、11,449 个问题，需要一到三分钟",
    )
    p.add_argument(
        "--seed", type=_a_seed, default=1, metavar="N", help="随机种子（默认 1）：同一种子在同一天生成相同的数据"
    )
    p.add_argument("--json", action="store_true", help="以 JSON 输出生成的记录数")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser(
        "stats",
        help="统计数字（工作组、干部、包联企业、走访家次、座谈会、问题、解决率、逾期等）",
        description="按市“万人助万企”办的统计口径输出统计数字。不加 --by 输出总体数字；\n"
        "加 --by 按单位、问题类别、责任单位、问题层级、月份或助企干部分组。\n"
        "解决率 = 已解决 ÷ 收集问题，保留一位小数，截断不四舍五入。",
    )
    db_option(p)
    p.add_argument(
        "--json",
        action="store_true",
        help="输出 JSON：不加 --by 时为一个对象；加 --by 时为对象列表，每个对象含 key 和 label",
    )
    p.add_argument(
        "--by",
        choices=BY_CHOICES,
        metavar="{unit,category,department,level,month,cadre}",
        help="分组：unit 单位（按企业所属开发区、区县），category 问题类别，department 牵头责任单位，"
        "level 问题层级，month 月份，cadre 助企干部（一次走访有几位干部就各计一次，各行之和不等于总数）",
    )
    p.add_argument("--from", dest="date_from", type=_a_date, metavar="YYYY-MM-DD", help="统计期开始日（含）")
    p.add_argument(
        "--to", dest="date_to", type=_a_date, metavar="YYYY-MM-DD", help="统计截止日（含；默认今天，晚于今天按今天）"
    )
    p.add_argument("--unit", metavar="NAME", help="只统计一个开发区、区县（市）（全称或简称）")
    p.set_defaults(handler=cmd_stats)

    p = sub.add_parser(
        "print",
        help="打印表单为 PDF（走访记录表、问题交办单/督办单、问题台账、企业服务档案、统计报表）",
        description="把表单生成为 A4 PDF 文件（与图形界面打印预览的页面相同，字体嵌入，可直接打印）：\n"
        "  visit       走访记录表：--id 指定一条或多条（走访记录 id 或编号 ZF…），或 --all 打印全部\n"
        "              （可用 --month 或 --from/--to 限定走访日期，--unit 限定企业所属单位）；\n"
        "              每条记录另起一页、单独编页码，合成一个 PDF\n"
        "  problem     问题交办单：--id 指定一个问题（问题 id 或编号 WT…）；加 --supervision 打印督办单\n"
        "  ledger      问题台账（横向 A4）：全部问题，可用 --month 或 --from/--to 按登记日期筛选，--unit 按单位\n"
        "  enterprise  企业服务档案：--id 指定一家企业（企业 id 或统一社会信用代码）\n"
        "  report      统计报表：统计期为 --month 或 --from/--to（默认今年 1 月 1 日至今天），--unit 限定单位\n"
        "文件先写入临时文件，完成后才改名为 --out，失败时不会留下半个文件。\n"
        "打印含联系人信息的表单会记入操作记录。",
        epilog="示例：\n"
        f"  python {prog} print visit      --db 演示.db --id ZF2026-AB12-0007 --out 走访记录表.pdf\n"
        f"  python {prog} print visit      --db 演示.db --all --from 2026-01-01 --to 2026-03-31 --out 一季度走访.pdf\n"
        f"  python {prog} print problem    --db 演示.db --id WT2026-AB12-0003 --supervision --out 督办单.pdf\n"
        f"  python {prog} print ledger     --db 演示.db --month 2026-03 --unit 金水区 --out 问题台账.pdf\n"
        f"  python {prog} print enterprise --db 演示.db --id 91410105MA44XXXX0X --out 企业档案.pdf\n"
        f"  python {prog} print report     --db 演示.db --from 2026-01-01 --to 2026-06-30 --out 半年报.pdf",
    )
    p.add_argument(
        "form",
        choices=PRINT_FORMS,
        metavar="{visit,problem,ledger,enterprise,report}",
        help="表单：visit 走访记录表，problem 问题交办单（督办单），ledger 问题台账，"
        "enterprise 企业服务档案，report 统计报表",
    )
    db_option(p)
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件（已存在时覆盖）")
    p.add_argument(
        "--id",
        dest="ids",
        action="extend",
        nargs="+",
        metavar="ID",
        help="要打印的记录：走访记录 id 或编号（ZF…，visit 可给多个）、问题 id 或编号（WT…）、"
        "企业 id 或统一社会信用代码",
    )
    p.add_argument(
        "--all", action="store_true", help="visit：打印全部走访记录（可用 --month、--from/--to、--unit 限定）"
    )
    p.add_argument(
        "--month",
        type=_a_month,
        metavar="YYYY-MM",
        help="只含这个月（visit 按走访日期，ledger 按登记日期；report 的统计期）",
    )
    p.add_argument("--from", dest="date_from", type=_a_date, metavar="YYYY-MM-DD", help="开始日（含）")
    p.add_argument("--to", dest="date_to", type=_a_date, metavar="YYYY-MM-DD", help="截止日（含）")
    p.add_argument("--supervision", action="store_true", help="problem：打印督办单（默认打印问题交办单）")
    p.add_argument(
        "--unit", metavar="NAME", help="visit --all、ledger、report：只含一个开发区、区县（市）（全称或简称）"
    )
    p.set_defaults(handler=cmd_print)

    p = sub.add_parser(
        "roster",
        help="Excel 名单：导入企业名单、干部名单、包联名单（先预览），导出名单",
        description="Excel 名单（.xlsx，或 UTF-8 / GB18030 编码的 .csv）：\n"
        "  roster import   导入名单：先逐行预览（新增 / 更新 / 无变化 / 错误及原因、Excel 行号），\n"
        "                  再在一个事务中写入没有错误的行；--dry-run 只预览不写入\n"
        "  roster export   按导入所读的格式导出名单（导出后再导入不会改变任何数据）",
    )
    roster_sub = p.add_subparsers(dest="roster_command", metavar="{import,export}", title="名单子命令",
                                  parser_class=_Parser)
    p.set_defaults(handler=lambda args: _usage("请指定名单子命令：import 或 export（例如 python main.py roster "
                                               "import 企业名单.xlsx --db 金水区.db --dry-run）。"))
    q = roster_sub.add_parser(
        "import", help="导入名单（企业 / 干部 / 包联），先预览再写入",
        description="导入名单。表头可以在前 20 行中的任意一行（上方可有合并单元格的标题），列名可用常见写法\n"
        "（企业名称/单位名称/企业全称，统一社会信用代码/信用代码，所属区县/区县/属地，联系电话/手机 …）；\n"
        "空行、合计行和表下说明会跳过。企业按统一社会信用代码匹配，没有代码时按所属区县内的企业名称匹配；\n"
        "空白单元格不会清除已有信息。有错误的行不导入（退出码 3），其余行照常导入（--strict 时全部不导入）。\n"
        "--json 输出 JSON 数组，每个数据行一个对象：row（Excel 行号）、action（new / update / unchanged /\n"
        "error）、messages（中文说明）、label（企业或干部名称）。")
    q.add_argument("file", metavar="FILE", help="名单文件（.xlsx 或 .csv）")
    db_option(q)
    q.add_argument("--kind", choices=("auto", "enterprises", "cadres", "assignments"), default="auto",
                   help="名单种类：enterprises 企业名单、cadres 干部名单、assignments 包联名单；默认按表头自动识别")
    q.add_argument("--sheet", metavar="NAME", help="工作表名称（默认为打开文件时显示的工作表）")
    q.add_argument("--dry-run", action="store_true", help="只预览，不写入数据库")
    q.add_argument("--json", action="store_true", help="以 JSON 输出每行的预览结果")
    q.add_argument("--strict", action="store_true", help="只要有一行有错误就全部不导入")
    q.add_argument("--report", metavar="FILE.xlsx", help="把有错误的行写成 Excel 错误报告（改正后可直接重新导入）")
    q.set_defaults(handler=cmd_roster)
    q = roster_sub.add_parser("export", help="导出名单（.xlsx，或 UTF-8 带 BOM 的 .csv）",
                              description="按导入所读的格式导出名单：企业名单（默认，不含已归档企业）、干部名单（在岗）\n"
                              "或包联名单（当前的包联关系）。导出含联系人、电话时记入操作留痕。")
    db_option(q)
    q.add_argument("--out", required=True, metavar="FILE", help="输出文件（.xlsx 或 .csv）")
    q.add_argument("--kind", choices=("enterprises", "cadres", "assignments"), default="enterprises",
                   help="名单种类（默认 enterprises 企业名单）")
    q.set_defaults(handler=cmd_roster)

    p = sub.add_parser(
        "check",
        help="检查数据库：完整性、结构版本、本机身份、记录数",
        description="检查数据库：SQLite 完整性检查和外键检查、结构版本（user_version 与本程序\n"
        "支持的最新版本）、本机身份、主要数据表的记录数，以及每个问题的当前状态与其\n"
        "办理过程记录是否一致。通过时退出码 0；发现损坏或不一致时退出码 3。\n"
        "检查不升级、不修改数据库。",
    )
    db_option(p)
    p.add_argument("--json", action="store_true", help="以 JSON 输出检查结果")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser(
        "sync",
        help="数据同步：本机身份、邀请、加入与登记，导出与导入同步文件",
        description="数据同步（DESIGN §5）：\n"
        "  sync identity   显示本机标识、角色、单位和密钥指纹（汇总端登记本机时核对指纹）\n"
        "  sync invite     汇总端生成邀请文件（汇总端的公钥和基础数据）\n"
        "  sync join       干部端（或加入市级的区县汇总端）读取邀请文件，生成登记申请文件\n"
        "  sync enroll     汇总端核对指纹后登记申请文件中的安装\n"
        "  sync enrolled   汇总端列出已登记的安装\n"
        "  sync revoke     汇总端撤销某个安装的登记（此后不再接受它的同步文件）\n"
        "  sync export     写一个同步文件：上报汇总端尚未确认的全部修改，或给下级下发确认与办理结果\n"
        "  sync import     导入同步文件，每个文件一行结果（已导入 / 已导入过 / 被拒绝及原因）\n"
        "  sync status     同步记录、未确认的修改、等待中的操作和待处理的冲突",
    )
    sync_sub = p.add_subparsers(dest="sync_command", metavar="{identity,invite,join,enroll,enrolled,revoke,export,import,status}",
                                title="同步子命令")
    q = sync_sub.add_parser("identity", help="本机标识、角色、单位和密钥指纹",
                            description="显示本机安装标识、角色、单位、操作人，以及签名密钥（Ed25519）和\n"
                            "加密密钥（X25519）的指纹。私钥保存在数据库所在文件夹的 keys 子文件夹中，\n"
                            "不会写入数据库或同步文件。")
    db_option(q)
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_sync_identity)
    q = sync_sub.add_parser("invite", help="汇总端：生成邀请文件（.zqinvite）",
                            description="汇总端生成带签名的邀请文件（.zqinvite）：本机的安装标识、单位、签名与\n"
                            "加密公钥，以及基础数据（单位、分类词表、期限模板；不含个人信息）。把它交给\n"
                            "要加入的干部端，并告诉对方本机的签名密钥指纹（sync identity 可查看）。")
    db_option(q)
    q.add_argument("--out", metavar="FILE", required=True, help="邀请文件路径（或文件夹：自动命名）")
    q.set_defaults(handler=cmd_sync_invite)
    q = sync_sub.add_parser("join", help="干部端：读取邀请文件，生成登记申请文件（.zqjoin）",
                            description="读取汇总端的邀请文件，校验签名后记下该汇总端，并生成带本机签名的\n"
                            "登记申请文件（.zqjoin），交回汇总端登记。会显示汇总端的签名密钥指纹：\n"
                            "请与汇总端操作人核对一致后再交出申请文件。")
    db_option(q)
    q.add_argument("file", metavar="FILE", help="汇总端的邀请文件（.zqinvite）")
    q.add_argument("--out", metavar="REQUEST", required=True, help="登记申请文件路径（或文件夹：自动命名）")
    q.set_defaults(handler=cmd_sync_join)
    q = sync_sub.add_parser("enroll", help="汇总端：核对指纹后登记申请文件中的安装",
                            description="读取登记申请文件，显示申请方的安装标识、单位、操作人和签名密钥指纹；\n"
                            "与申请方核对指纹一致后登记，此后接受它的同步文件。不带 --yes 时在终端询问确认。")
    db_option(q)
    q.add_argument("request", metavar="REQUEST", help="登记申请文件（.zqjoin）")
    q.add_argument("--yes", action="store_true", help="不询问，直接登记（已另行核对指纹时使用）")
    q.set_defaults(handler=cmd_sync_enroll)
    q = sync_sub.add_parser("enrolled", help="汇总端：列出已登记的安装",
                            description="列出本汇总端已登记的安装：标识、角色、单位、操作人、签名密钥指纹、\n"
                            "登记时间和撤销时间。")
    db_option(q)
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_sync_enrolled)
    q = sync_sub.add_parser("revoke", help="汇总端：撤销某个安装的登记",
                            description="撤销一个已登记安装的登记：此后不再接受它签名的同步文件。重复撤销无影响。")
    db_option(q)
    q.add_argument("installation_id", metavar="INSTALLATION_ID", help="要撤销的安装标识（见 sync enrolled）")
    q.add_argument("--note", default="", help="撤销原因（可选）")
    q.set_defaults(handler=cmd_sync_revoke)
    q = sync_sub.add_parser("export", help="写一个同步文件（.zqpkg），打印其路径",
                            description="干部端 / 区县汇总端：把上级汇总端尚未确认收到的全部修改写成一个签名并加密的\n"
                            "同步文件（区县汇总端连同转报的干部端修改，来源不变）。U 盘丢失也不要紧：\n"
                            "下次导出会再次包含所有未确认的修改。--full 导出全部修改。\n"
                            "汇总端：用 --to 给某个已登记的安装（或 all：每个一份）写下发文件，内含收到确认、\n"
                            "基础数据和其上报问题的办理结果；市级汇总端不带 --to 时给每个已登记安装各写一份。\n"
                            "文件先写临时文件、落盘、改名，再读回校验，拔出 U 盘不会留下看似完好的文件。")
    db_option(q)
    q.add_argument("--out", metavar="DIR", required=True, help="写入的文件夹（如 U 盘）")
    q.add_argument("--full", action="store_true", help="导出全部修改（不只未确认的）")
    q.add_argument("--to", metavar="INSTALLATION_ID", help="接收方安装标识，或 all（汇总端下发时用）")
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_sync_export)
    q = sync_sub.add_parser("import", help="导入同步文件，每个文件一行结果",
                            description="导入一个或多个同步文件。每个文件先完整校验（签名、接收方、大小、校验值、\n"
                            "版本、文件序列、每条记录的格式），再在一个事务中合并：重复导入无影响（已导入过），\n"
                            "先后顺序不限，缺少前提记录的操作会等待，双方都改过的字段进入冲突列表。\n"
                            "有文件被拒绝时退出码为 3，被拒绝的文件不会改动任何数据。")
    db_option(q)
    q.add_argument("files", metavar="FILE", nargs="+", help="同步文件（.zqpkg）")
    q.add_argument("--json", action="store_true", help="每个文件输出一个 JSON 对象（JSON 数组）")
    q.set_defaults(handler=cmd_sync_import)
    q = sync_sub.add_parser("status", help="同步记录、未确认的修改、等待与冲突",
                            description="显示尚未被上级确认的修改数、最近的同步记录、等待中的操作和待处理的冲突。")
    db_option(q)
    q.add_argument("--json", action="store_true", help="以 JSON 输出")
    q.set_defaults(handler=cmd_sync_status)
    p.set_defaults(handler=lambda args: _sync_usage())
    return parser


def _usage(message: str) -> int:
    raise UsageError(message)


def _sync_usage() -> int:
    raise UsageError("请指定同步子命令：identity、invite、join、enroll、enrolled、revoke、export、import 或 status"
                     "（例如 python main.py sync identity --db 金水区.db）。")


def wants_cli(argv: Sequence[str]) -> bool:
    """True when main.py should hand argv to `main` (a subcommand, --help or --version), False for the GUI."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("-h", "--help", "--version"):
            return True
        if arg == "--db":
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg in SUBCOMMANDS
    return False


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _utf8_streams() -> None:
    """Chinese output must survive a Windows console or a pipe with a legacy code page."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding == "utf8" or not hasattr(stream, "reconfigure"):
            continue
        with contextlib.suppress(ValueError, OSError, io.UnsupportedOperation):
            stream.reconfigure(encoding="utf-8", errors="replace")


def _db_path(args, *, must_exist: bool) -> Path:
    raw = getattr(args, "db", None) or getattr(args, "global_db", None)
    path = Path(raw).expanduser() if raw else default_db_path()
    if path.is_dir():
        raise UsageError(f"--db 指向的是文件夹而不是数据库文件：{path}")
    if must_exist:
        if not path.exists():
            raise UsageError(f"数据库文件不存在：{path}。请检查 --db 路径，或先运行 init 初始化。")
        if not os.access(path, os.R_OK):
            raise UsageError(f"无法读取数据库文件：{path}（没有读取权限）。")
    return path


def _open(path: Path):
    from app.services import Services

    try:
        return Services.open(path)
    except OSError as exc:
        raise StoreError(f"无法打开或创建数据库文件 {path}：{exc.strerror or exc}") from exc


@contextlib.contextmanager
def _session(args):
    """The services of an existing database named by --db, closed afterwards."""
    services = _open(_db_path(args, must_exist=True))
    try:
        yield services
    finally:
        services.close()


def _out(text: str = "") -> None:
    print(text, file=sys.stdout)


def _json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2), file=sys.stdout)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    widths = [max(_width(h), *(_width(r[i]) for r in rows)) if rows else _width(h) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, w, r) for h, w, r in zip(headers, widths, right, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(_pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)).rstrip())
    return lines


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _resolve_unit(role: str, name: str) -> str:
    """Check --unit against the bundled reference before any file is touched; returns the name to store."""
    from db.reference import load_reference

    units, _vocab = load_reference()
    wanted = (name or "").strip()
    city = units["city"]
    districts = units["districts"]

    def matches(u: dict) -> bool:
        return wanted in (u["name"], u.get("short"))

    hint = "请使用 16 个开发区、区县（市）之一的全称或简称（如 金水区、郑东新区、巩义市），市级汇总端用“郑州市”。"
    if role == "city":
        if matches(city):
            return city["name"]
        if any(matches(u) for u in districts):
            raise ValidationError(f"市级汇总端（city）的单位应为“郑州市”，而不是“{wanted}”。", field="unit")
    else:
        found = next((u for u in districts if matches(u)), None)
        if found:
            return found["name"]
        if matches(city):
            raise ValidationError(
                f"{ROLE_LABELS[role]}（{role}）的单位应为 16 个开发区、区县（市）之一；"
                "“郑州市”只用于市级汇总端（city）。",
                field="unit",
            )
    if any(wanted == d["name"] for d in units["departments"]):
        raise ValidationError(f"“{wanted}”是责任单位（市直部门），不能作为本机所属单位。{hint}", field="unit")
    raise ValidationError(f"单位“{wanted}”不存在。{hint}", field="unit")


def _remove_db_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            Path(str(path) + suffix).unlink()
        except FileNotFoundError:
            pass
        except OSError:  # pragma: no cover - best effort cleanup
            pass


def _identity(services) -> dict:
    inst = services.installation
    unit = services.reference.unit(inst.unit_id)
    return {
        "installation_id": inst.id,
        "role": inst.role,
        "role_label": inst.role_label,
        "unit": unit.name,
        "unit_id": unit.id,
        "operator": inst.operator,
        "cadre_id": inst.cadre_id,
        "created_at": inst.created_at,
    }


# ------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------


def cmd_init(args) -> int:
    path = _db_path(args, must_exist=False)
    unit_name = _resolve_unit(args.role, args.unit)
    if args.role == "station" and not (args.operator or "").strip():
        raise UsageError("初始化干部端需要 --operator（本机使用者姓名，将登记为助企干部，用于“我的包联”）。")
    operator = (args.operator or DEFAULT_OPERATORS[args.role]).strip()
    created = not path.exists()
    try:
        services = _open(path)
        try:
            services.initialise(role=args.role, unit_name=unit_name, operator=operator)
            ident = _identity(services)
        finally:
            services.close()
    except BaseException:
        if created:  # a refused init leaves no half-made file behind
            _remove_db_files(path)
        raise
    ident["db"] = str(path)
    if args.json:
        _json(ident)
        return 0
    _out(f"已初始化数据库：{path}")
    _out(f"  本机标识：{ident['installation_id']}")
    _out(f"  角色：{ident['role_label']}（{ident['role']}）")
    _out(f"  单位：{ident['unit']}")
    _out(f"  操作人：{ident['operator']}")
    return 0


def _progress_printer():
    if not sys.stderr.isatty():
        return None
    state = {"last": -1}

    def progress(done: int, total: int, text: str) -> None:
        pct = done * 100 // max(total, 1)
        if pct != state["last"]:
            state["last"] = pct
            print(f"\r{text} {pct:3d}%", end="", file=sys.stderr, flush=True)
            if pct >= 100:
                print(file=sys.stderr)

    return progress


DEMO_LABELS = (
    ("work_groups", "工作组", "个"),
    ("cadres", "助企干部（在岗）", "名"),
    ("cadres_inactive", "已调离干部", "名"),
    ("departments_added", "新增责任单位", "个"),
    ("enterprises", "企业", "家"),
    ("assignments", "包联关系", "条"),
    ("assignments_ended", "其中已结束（历史）", "条"),
    ("visits", "走访记录", "条"),
    ("symposia", "其中座谈会", "场"),
    ("enterprise_visits", "走访企业家次", "家次"),
    ("problems", "企业问题", "个"),
    ("problem_events", "办理过程记录", "条"),
    ("audit_log", "操作留痕", "条"),
    ("outbox", "待同步变更", "条"),
)


def cmd_demo(args) -> int:
    from app import demo

    path = _db_path(args, must_exist=False)
    services = _open(path)
    try:
        if demo.ensure_initialised(services):
            print(
                f"数据库尚未初始化，已初始化为{demo.DEFAULT_UNIT}干部端（操作人 {demo.DEFAULT_OPERATOR}）。",
                file=sys.stderr,
            )
        counts = demo.generate(services, size=args.size, seed=args.seed, progress=_progress_printer())
        ident = _identity(services)
    finally:
        services.close()
    if args.json:
        _json({**counts, "db": str(path), "installation_id": ident["installation_id"]})
        return 0
    _out(f"已生成演示数据（规模 {counts['size']}，种子 {counts['seed']}，用时 {counts['seconds']} 秒）：{path}")
    _out(f"  本机：{ident['unit']} {ident['role_label']}（操作人 {ident['operator']}）")
    rows = [(label, _fmt(counts[key]), unit) for key, label, unit in DEMO_LABELS if key in counts]
    for line in _table(("项目", "数量", ""), rows, (False, True, False)):
        _out("  " + line)
    _out("  （姓名、企业名称、统一社会信用代码、电话等均为虚构的演示数据。）")
    return 0


HEADLINE_KEYS = (
    "work_groups",
    "cadres",
    "enterprises_covered",
    "enterprise_visits",
    "enterprises_visited",
    "visits",
    "symposia",
    "problems_collected",
    "problems_resolved",
    "problems_solved",
    "solve_rate",
    "overdue",
    "missed_deadline",
    "due_soon",
    "avg_workdays_to_solve",
    "satisfaction_rate",
    "urged",
    "supervised",
)
BY_KEYS = {
    "unit": (
        "work_groups",
        "cadres",
        "enterprises_covered",
        "enterprise_visits",
        "symposia",
        "problems_collected",
        "problems_solved",
        "solve_rate",
        "overdue",
    ),
    "month": (
        "enterprise_visits",
        "enterprises_visited",
        "symposia",
        "problems_collected",
        "problems_resolved",
        "problems_solved",
        "solve_rate",
        "overdue",
    ),
}
PROBLEM_KEYS = (
    "problems_collected",
    "problems_resolved",
    "problems_solved",
    "solve_rate",
    "overdue",
    "missed_deadline",
    "avg_workdays_to_solve",
    "satisfaction_rate",
)


def _label(definitions: dict, key: str) -> str:
    return definitions[key].split("：", 1)[0]


def cmd_stats(args) -> int:
    from app.stats import DIMENSION_LABELS, STATS_VERSION, Period

    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise UsageError(f"--from（{args.date_from}）不能晚于 --to（{args.date_to}）。")
    with _session(args) as services:
        period = Period(args.date_from, args.date_to)
        unit = services.reference.unit_by_name(args.unit) if args.unit else None
        if unit is not None and not unit.is_district:
            raise ValidationError(f"--unit 应为开发区或区县（市），“{unit.name}”不是。", field="unit")
        unit_id = unit.id if unit else None
        definitions = services.stats.definitions()
        scope = unit.name if unit else "全部单位"
        meta = {
            "stats_version": STATS_VERSION,
            "from": period.start.isoformat() if period.start else None,
            "cutoff": period.cutoff.isoformat(),
            "unit": unit.name if unit else None,
        }
        try:
            ident = _identity(services)
        except AppError:
            ident = None
        if args.by:
            rows = services.stats.breakdown(args.by, period, unit_id)
        else:
            head = services.stats.headline(period, unit_id)

    if args.json:
        _json(rows if args.by else {**head, **meta})
        return 0
    title = "助企工作统计" + (f"（按{DIMENSION_LABELS[args.by]}）" if args.by else "")
    _out(f"{title}    范围：{scope}    统计期：{period.label()}（截止日 {meta['cutoff']}）    口径版本 {STATS_VERSION}")
    if ident:
        _out(f"本机：{ident['unit']} {ident['role_label']}（{ident['operator']}）    数据库：{services.store.path}")
    _out()
    if args.by:
        keys = BY_KEYS.get(args.by, PROBLEM_KEYS)
        headers = (DIMENSION_LABELS[args.by], *(_label(definitions, k) for k in keys))
        body = [
            (str(r["label"] if r["label"] is not None else "（未指定）"), *(_fmt(r[k]) for k in keys)) for r in rows
        ]
        for line in _table(headers, body, (False, *([True] * len(keys)))):
            _out(line)
        if not rows:
            _out("（统计期内没有数据）")
        shown = keys
    else:
        body = [(_label(definitions, k), _fmt(head[k])) for k in HEADLINE_KEYS if k in head]
        for line in _table(("指标", "数值"), body, (False, True)):
            _out(line)
        shown = tuple(k for k in HEADLINE_KEYS if k in head)
    _out()
    _out("口径说明：")
    for k in shown:
        _out(f"  {definitions[k]}")
    return 0


PRINT_LABELS = {
    "visit": "走访记录表",
    "problem": "问题交办单",
    "supervision": "督办单",
    "ledger": "问题台账",
    "enterprise": "企业服务档案",
    "report": "统计报表",
}
# Every page object of a reportlab PDF says "/Type /Page" (the page tree says "/Type /Pages").
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def pdf_page_count(pdf: bytes) -> int:
    """Pages in a PDF we made (no object streams), without a PDF reader."""
    return len(_PAGE_OBJECT.findall(pdf))


def _check_print_args(args) -> tuple[date | None, date | None]:
    """Which options go with which form (exit 2 otherwise); returns the period (start, end) asked for."""
    form = args.form
    ids = args.ids or []
    if args.month and (args.date_from or args.date_to):
        raise UsageError("--month 不能与 --from/--to 同时使用：请只用一种方式给出日期范围。")
    start, end = args.month if args.month else (args.date_from, args.date_to)
    if start and end and start > end:
        raise UsageError(f"--from（{start}）不能晚于 --to（{end}）。")
    dated = bool(args.month or args.date_from or args.date_to)
    if args.supervision and form != "problem":
        raise UsageError("--supervision 只用于 print problem（打印督办单）。")
    if args.all and form != "visit":
        raise UsageError(f"--all 只用于 print visit；print {form} 不需要 --all。")
    if form == "visit":
        if ids and args.all:
            raise UsageError("--id 和 --all 只能选一个：--id 打印指定的走访记录，--all 打印全部。")
        if not ids and not args.all:
            raise UsageError("请用 --id 指定要打印的走访记录（id 或编号 ZF…，可给多个），或用 --all 打印全部。")
        if ids and (dated or args.unit):
            raise UsageError("--month、--from/--to、--unit 只能与 --all 一起使用（--id 已指定了要打印的记录）。")
    elif form in ("problem", "enterprise"):
        what = "问题（id 或编号 WT…）" if form == "problem" else "企业（id 或统一社会信用代码）"
        if not ids:
            raise UsageError(f"请用 --id 指定要打印的{what}。")
        if len(ids) > 1:
            raise UsageError(f"print {form} 一次只打印一个{what[:2]}，--id 给了 {len(ids)} 个。")
        if dated or args.unit:
            raise UsageError(f"print {form} 不接受 --month、--from/--to 或 --unit。")
    elif ids:
        raise UsageError(f"print {form} 不接受 --id（用 --month、--from/--to、--unit 选择范围）。")
    return start, end


def _find_one(services, table: str, raw: str) -> str | None:
    """Id of a live visit/problem named by id or record number (case of the number does not matter)."""
    value = raw.strip()
    row = services.ctx.store.one(
        f"SELECT id FROM {table} WHERE deleted = 0 AND (id = ? OR record_no = ?)", (value, value.upper())
    )
    return None if row is None else row["id"]


def _find_all(services, table: str, raws: Sequence[str], what: str) -> list[str]:
    found: list[str] = []
    missing: list[str] = []
    for raw in raws:
        rid = _find_one(services, table, raw)
        if rid is None:
            missing.append(raw.strip() or "（空）")
        elif rid not in found:
            found.append(rid)
    if missing:
        raise NotFoundError(f"找不到{what}：{'、'.join(missing)}", field="id")
    return found


def _find_enterprise(services, raw: str) -> str:
    value = raw.strip()
    row = services.ctx.store.one("SELECT id FROM enterprises WHERE deleted = 0 AND id = ?", (value,))
    if row is not None:
        return row["id"]
    ent = services.enterprises.by_uscc(value) if value else None
    if ent is None:
        raise NotFoundError(f"找不到企业：{value or '（空）'}（请给出企业 id 或统一社会信用代码）", field="id")
    return ent["id"]


def _district(services, name: str | None):
    if not name:
        return None
    unit = services.reference.unit_by_name(name)
    if not unit.is_district:
        raise ValidationError(f"--unit 应为开发区或区县（市），“{unit.name}”不是。", field="unit")
    return unit


class _PrintProgress:
    """PrintService progress (done, total) as a percentage on stderr, only when stderr is a terminal."""

    def __init__(self, text: str):
        self.text = text
        self.shown = False
        self.last = -1

    @classmethod
    def make(cls, text: str) -> _PrintProgress | None:
        return cls(text) if sys.stderr.isatty() else None

    def __call__(self, done: int, total: int) -> bool:
        pct = min(100, done * 100 // max(total, 1))
        if pct != self.last:
            self.last = pct
            self.shown = True
            print(f"\r{self.text} {pct:3d}%", end="", file=sys.stderr, flush=True)
        return True

    def finish(self) -> None:
        if self.shown:
            print(file=sys.stderr, flush=True)
            self.shown = False


def _period_text(start: date | None, end: date | None) -> str:
    if start and end and start.day == 1 and end == _month_end(start):
        return f"{start.year}年{start.month}月"
    if start and end:
        return f"{start.isoformat()} 至 {end.isoformat()}"
    if start:
        return f"{start.isoformat()} 起"
    if end:
        return f"截至 {end.isoformat()}"
    return ""


def cmd_print(args) -> int:
    from app.clock import today
    from app.printing import write_atomic
    from app.problems import ProblemFilter
    from app.stats import Period
    from app.visits import VisitFilter

    start, end = _check_print_args(args)
    out = Path(args.out).expanduser()
    if out.is_dir():
        raise UsageError(f"--out 指向的是文件夹而不是文件：{out}")
    path = _db_path(args, must_exist=True)
    form = args.form
    label = PRINT_LABELS["supervision" if args.supervision else form]
    progress = None
    records = 1
    services = _open(path)
    try:
        printing = services.printing
        unit = _district(services, args.unit)
        if form == "visit":
            if args.ids:
                ids = _find_all(services, "visits", args.ids, "走访记录")
            else:
                ids = printing.visit_ids(
                    VisitFilter(
                        date_from=start.isoformat() if start else None,
                        date_to=end.isoformat() if end else None,
                        unit_id=unit.id if unit else None,
                    )
                )
                if not ids:
                    scope = "、".join(x for x in (unit.name if unit else "", _period_text(start, end)) if x)
                    raise NotFoundError(f"没有可打印的走访记录{f'（{scope}）' if scope else ''}。", field="id")
            records = len(ids)
            progress = _PrintProgress.make(f"正在生成{label}（{records} 份）") if records > 1 else None
            pdf = printing.visit_records(ids, progress)
        elif form == "problem":
            pid = _find_all(services, "problems", args.ids, "问题")[0]
            pdf = printing.supervision_sheet(pid) if args.supervision else printing.assignment_sheet(pid)
        elif form == "enterprise":
            pdf = printing.enterprise_file(_find_enterprise(services, args.ids[0]))
        elif form == "ledger":
            f = ProblemFilter(unit_id=unit.id if unit else None)
            if start or end:  # by registration date
                f.ids = [
                    r[0]
                    for r in services.ctx.store.query(
                        "SELECT id FROM problems WHERE deleted = 0 AND registered_on >= ? AND registered_on <= ?",
                        ((start or date.min).isoformat(), (end or date.max).isoformat()),
                    )
                ]
            scope = "，".join(x for x in (unit.name if unit else "", _period_text(start, end)) if x)
            title = label + (f"（{scope}）" if scope else "")
            progress = _PrintProgress.make(f"正在生成{label}")
            pdf = printing.ledger(f, title, progress)
        else:  # report
            first = start or date((end or today()).year, 1, 1)
            pdf = printing.stats_report(Period(first, end), unit.id if unit else None)
    finally:
        if progress is not None:
            progress.finish()
        services.close()
    pages = pdf_page_count(pdf)
    written = write_atomic(out, pdf)
    count = f" {records} 份" if form == "visit" else ""
    _out(f"已生成{label}{count}（共 {pages} 页）：{written}")
    return 0


def _peek(path: Path) -> int:
    """Number of tables, read without writing anything (an empty or foreign file must stay untouched)."""
    if path.stat().st_size == 0:
        return 0
    try:
        probe = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
        try:
            return probe.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"无法打开数据库文件 {path}：{exc}（文件可能已损坏或不是本程序的数据库）") from exc


def _check(path: Path) -> dict:
    """Everything `check` reports; raises StoreError when the file cannot be opened as our database."""
    from app import lifecycle as lc
    from app.installation import load_installation
    from app.problems import STATE_FIELDS
    from db.store import APPLICATION_ID, latest_version, open_store

    if _peek(path) == 0:
        raise StoreError(f"文件 {path} 是空文件或没有任何数据表，不是助企工作台的数据库。")
    try:
        store = open_store(path, migrate=False)
    except OSError as exc:
        raise StoreError(f"无法打开数据库文件 {path}：{exc.strerror or exc}") from exc
    problems: list[str] = []
    report: dict = {"db": str(path)}
    try:
        conn = store.conn
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        report["integrity"] = integrity
        if integrity != ["ok"]:
            problems.append("SQLite 完整性检查未通过：" + "；".join(integrity[:5]))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        latest = latest_version()
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        report.update(
            schema_version=version,
            latest_version=latest,
            journal_mode=conn.execute("PRAGMA journal_mode").fetchone()[0],
        )
        if not tables or version == 0:
            problems.append("文件中没有助企工作台的数据表（空文件或不是本程序的数据库）。")
        elif app_id != APPLICATION_ID:
            problems.append(f"文件标识（application_id={app_id}）不是助企工作台的数据库。")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        report["foreign_key_errors"] = len(fk)
        if fk:
            first = fk[0]
            problems.append(
                f"外键检查发现 {len(fk)} 处引用了不存在的记录（例如表 {first[0]} 第 {first[1]} 行引用 {first[2]}）。"
            )
        inst = load_installation(store) if "settings" in tables else None
        report["installation"] = (
            None
            if inst is None
            else {
                "id": inst.id,
                "role": inst.role,
                "role_label": inst.role_label,
                "unit_id": inst.unit_id,
                "unit": store.scalar("SELECT name FROM units WHERE id = ?", (inst.unit_id,))
                if "units" in tables
                else None,
                "operator": inst.operator,
                "created_at": inst.created_at,
            }
        )
        counts = {}
        for table, _label_zh in CHECK_TABLES:
            if table in tables:
                counts[table] = conn.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()[0]
        if "outbox" in tables:
            counts["outbox"] = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        report["counts"] = counts
        mismatches = []
        if {"problems", "problem_events"} <= tables and version >= 1:
            events: dict[str, list] = {}
            for r in conn.execute(
                "SELECT problem_id, kind, on_date, note, data FROM problem_events WHERE deleted = 0 "
                "ORDER BY problem_id, on_date, at, id"
            ):
                events.setdefault(r[0], []).append({"kind": r[1], "on_date": r[2], "note": r[3], "data": r[4]})
            cols = ", ".join(STATE_FIELDS)
            for row in conn.execute(f"SELECT id, record_no, {cols} FROM problems WHERE deleted = 0"):
                evs = events.get(row["id"])
                try:
                    state = lc.replay(evs) if evs else None
                except (ValueError, KeyError, TypeError):
                    state = None
                if state is None:
                    mismatches.append(f"{row['record_no']}（办理过程记录缺失或无法解读）")
                    continue
                diff = [k for k in STATE_FIELDS if row[k] != state[k]]
                if diff:
                    mismatches.append(f"{row['record_no']}（{'、'.join(diff)}）")
        report["problem_state_mismatches"] = len(mismatches)
        if mismatches:
            problems.append(
                f"{len(mismatches)} 个问题的当前状态与办理过程记录不一致：{'；'.join(mismatches[:5])}"
                + ("等" if len(mismatches) > 5 else "")
            )
    finally:
        store.close()
    report["ok"] = not problems
    report["errors"] = problems
    return report


def cmd_sync_identity(args) -> int:
    from app.sync.identity import describe

    with _session(args) as services:
        ident = _identity(services)
        ident.update(describe(services.store, ident["installation_id"]))
    if args.json:
        _json(ident)
        return 0
    _out(f"本机：{ident['unit']} {ident['role_label']}（{ident['role']}），操作人 {ident['operator']}")
    _out(f"安装标识：{ident['installation_id']}")
    _out(f"签名密钥指纹（Ed25519）：{ident['signing_fingerprint'] or '（无：旧版本初始化的数据库）'}")
    _out(f"加密密钥指纹（X25519）：{ident['encryption_fingerprint'] or '（无）'}")
    state = "正常" if ident["key_file_ok"] else "缺失或损坏：无法签名或解密同步文件"
    _out(f"私钥文件：{ident['key_file'] or '（内存数据库，无文件）'}（{state}）")
    return 0


def cmd_sync_invite(args) -> int:
    from app.sync.enrollment import make_invite
    from app.sync.identity import describe

    with _session(args) as services:
        written = make_invite(services, Path(args.out).expanduser())
        info = describe(services.store, services.installation.id)
    _out(f"已生成邀请文件：{written}")
    _out(f"本机签名密钥指纹：{info['signing_fingerprint']}（请告知加入方，加入时核对）")
    return 0


def cmd_sync_join(args) -> int:
    from app.sync.enrollment import join

    with _session(args) as services:
        request, hub_fingerprint = join(services, Path(args.file).expanduser(), Path(args.out).expanduser())
    _out(f"汇总端签名密钥指纹：{hub_fingerprint}")
    _out("请与汇总端操作人核对此指纹（汇总端运行 sync identity 可查看）；不一致时不要交出申请文件。")
    _out(f"已生成登记申请文件：{request}（交给汇总端，用 sync enroll 登记）")
    return 0


def cmd_sync_enroll(args) -> int:
    from app.installation import ROLES
    from app.sync.enrollment import enroll, read_request

    with _session(args) as services:
        request = read_request(services, Path(args.request).expanduser())
        inst = request["installation"]
        _out(f"申请方：{inst.get('unit_name') or inst['unit_id']} {ROLES[inst['role']]}（{inst['role']}），"
             f"操作人 {inst.get('operator') or '（未填）'}")
        _out(f"安装标识：{inst['id']}")
        _out(f"签名密钥指纹：{request['signing_fingerprint']}")
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("登记前需要确认指纹：请在终端中运行并回答确认，或核对指纹后加 --yes。")
            sys.stdout.flush()
            try:
                answer = input("确认指纹一致并登记？[y/N] ").strip().lower()
            except EOFError:
                answer = ""
            if answer not in ("y", "yes", "是"):
                _out("未登记。")
                return 0
        status = enroll(services, request)
    _out({"enrolled": "已登记。", "already": "已登记过，无需再次登记。",
          "restored": "该安装曾被撤销，已重新登记。"}[status])
    return 0


def cmd_sync_enrolled(args) -> int:
    from app.sync.enrollment import list_enrolled

    with _session(args) as services:
        rows = list_enrolled(services)
    if args.json:
        _json(rows)
        return 0
    if not rows:
        _out("尚未登记任何安装。")
        return 0
    table = [(r["installation_id"], r["role_label"], r["unit"] or r["unit_id"] or "", r["operator"] or "",
              r["signing_fingerprint"], r["enrolled_at"][:10], "已撤销" if r["revoked_at"] else "有效")
             for r in rows]
    for line in _table(("安装标识", "角色", "单位", "操作人", "签名密钥指纹", "登记日期", "状态"), table,
                       (False,) * 7):
        _out(line)
    return 0


def cmd_sync_revoke(args) -> int:
    from app.sync.enrollment import revoke

    with _session(args) as services:
        changed = revoke(services, args.installation_id, args.note)
    _out(f"已撤销 {args.installation_id} 的登记，此后不再接受它的同步文件。" if changed
         else f"{args.installation_id} 早已撤销，未作改动。")
    return 0


def cmd_sync_export(args) -> int:
    out = Path(args.out).expanduser()
    if not out.is_dir():
        raise UsageError(f"--out 应是已存在的文件夹：{out}")
    with _session(args) as services:
        results = services.sync.export(out, to=args.to, full=args.full)
    if args.json:
        _json([r.as_dict() for r in results])
        return 0
    for r in results:
        _out(str(r.path))
        print(f"已写入同步文件（{r.recipient_label}，{r.operations} 条）：{r.path.name}", file=sys.stderr)
    return 0


def cmd_sync_import(args) -> int:
    with _session(args) as services:
        results = services.sync.import_files([Path(f).expanduser() for f in args.files])
    if args.json:
        _json([r.as_dict() for r in results])
    else:
        labels = {"imported": "已导入", "already": "已导入过", "rejected": "被拒绝"}
        for r in results:
            line = f"{labels[r.status]}\t{r.file}\t{r.message}"
            if r.status == "rejected":
                print(line, file=sys.stderr)
            _out(line)
    return 3 if any(r.status == "rejected" for r in results) else 0


def cmd_sync_status(args) -> int:
    with _session(args) as services:
        report = {"pending": services.sync.pending(), "hub": services.sync.hub(),
                  "ledger": services.sync.ledger(limit=20), "waiting": services.sync.waiting(),
                  "conflicts": services.sync.conflicts()}
    if args.json:
        _json(report)
        return 0
    pend = report["pending"]
    hub = report["hub"]
    _out(f"上级汇总端：{hub['unit'] + ' ' + hub['role_label'] if hub else '未加入'}")
    _out(f"未被上级确认的修改：{pend['operations']} 条；最近导出 {pend['last_export'] or '无'}；"
         f"最近确认 {pend['last_acknowledged'] or '无'}")
    _out(f"等待中的操作：{len(report['waiting'])} 条；待处理的冲突：{len(report['conflicts'])} 处")
    for e in report["ledger"]:
        arrow = "导出→" if e["direction"] == "out" else "导入←"
        _out(f"  {e['at'][:19]} {arrow} {e['peer_label']} {e['file_name']} {e['operations']} 条 {e['status']}")
    for c in report["conflicts"]:
        _out(f"  冲突 #{c['id']} {c['table_label']}“{c['record_label']}”{c['field_label']}：当前 {c['current_value']}"
             f"（{c['current_source']}），另一值 {c['other_value']}（{c['other_source']}）")
    return 0


def cmd_roster(args) -> int:
    from app.cli_roster import run  # openpyxl loads only for this command

    return run(args)


def cmd_check(args) -> int:
    path = _db_path(args, must_exist=True)
    report = _check(path)
    if args.json:
        _json(report)
    else:
        _out(f"数据库：{path}")
        _out(f"完整性检查：{'通过' if report['integrity'] == ['ok'] else '未通过'}")
        version, latest = report["schema_version"], report["latest_version"]
        note = "（最新）" if version == latest else f"（低于本程序的版本 {latest}，下次打开时会先备份再自动升级）"
        _out(f"结构版本：{version}{note}；日志模式：{report['journal_mode']}")
        inst = report["installation"]
        if inst:
            _out(
                f"本机：{inst['unit'] or inst['unit_id']} {inst['role_label']}（{inst['role']}），操作人 {inst['operator']}，"
                f"标识 {inst['id']}"
            )
        else:
            _out("本机：尚未初始化")
        labels = dict(CHECK_TABLES) | {"outbox": "待同步变更"}
        rows = [(labels[t], _fmt(n)) for t, n in report["counts"].items()]
        if rows:
            _out("记录数（不含已删除）：")
            for line in _table(("数据", "条数"), rows, (False, True)):
                _out("  " + line)
        _out(f"问题状态与办理过程：{'一致' if not report['problem_state_mismatches'] else '不一致'}")
        _out("结论：" + ("检查通过。" if report["ok"] else "发现问题，见标准错误。"))
    if not report["ok"]:
        for message in report["errors"]:
            print(f"错误：{message}", file=sys.stderr)
        return 3
    return 0


# ------------------------------------------------------------------------------------------------
# Entry
# ------------------------------------------------------------------------------------------------


def _is_bad_file(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _BAD_FILE)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns the exit code (0, 1, 2 or 3) instead of exiting."""
    _utf8_streams()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(
            f"错误：请指定子命令：{'、'.join(sorted(SUBCOMMANDS))}（不带子命令运行 main.py 时打开图形界面）。",
            file=sys.stderr,
        )
        return 2
    try:
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except AppError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 3
    except sqlite3.DatabaseError as exc:
        if _is_bad_file(exc):
            print(f"错误：数据库文件无法读取或已损坏：{exc}", file=sys.stderr)
            return 3
        return _unexpected(exc)
    except BrokenPipeError:  # the reader went away (e.g. `stats | head`): not a failure of ours
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except Exception as exc:
        return _unexpected(exc)


def _unexpected(exc: BaseException) -> int:
    print(f"意外错误（程序缺陷，请将以下信息报告给维护人员）：{type(exc).__name__}: {exc}", file=sys.stderr)
    summary = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4)
    print("".join(summary).rstrip(), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
