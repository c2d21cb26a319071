"""JsonLogic rules: evaluation in Python (agreeing with json-logic-js) and static checks."""

from builder.runtime.rules.check import check_logic
from builder.runtime.rules.evaluator import OPERATORS, RuleError, evaluate, truthy

__all__ = ["OPERATORS", "RuleError", "check_logic", "evaluate", "truthy"]
