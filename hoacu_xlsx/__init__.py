"""hoacu-xlsx: run a commune's yearly advanced-examples nomination round in Excel.

The data flows through one module per stage:
catalogue -> builder (-> units fill offline) -> intake -> reader -> validator
-> store -> master / feedback writers; cli is a thin click layer on top.
"""

__version__ = "0.1.0"
