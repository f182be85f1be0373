"""Dense heads: the RPN with the RPN slot's contract."""
from .rpn_head import RPNHead

__all__ = ['RPNHead']
