"""Qt user interface of 助企工作台."""
