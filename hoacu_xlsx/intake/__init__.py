"""Intake: find the files in inbox/, tell what each one is, unpack containers, refuse hostile ones.

Every file came by email and is untrusted. Nothing here writes anywhere, and nothing outside
inbox/ is read. Containers (.zip, .eml) are read in memory with caps; workbook bytes are
checked before python-calamine or openpyxl see them. One module per job:

* :mod:`.scan` — walking inbox/ (links, hidden and lock files, safe reads), containers;
* :mod:`.sniff` — what a file is by content, extension checks, :func:`inspect_bytes`;
* :mod:`.zipparts` / :mod:`.xmlparts` — zip checks, bounded inflation, XML part scanning;
* :mod:`.email_parts` — saved emails: Date, sender, attachments;
* :mod:`.ole` — compound files (.xls): every sector chain walked, BIFF used range, passwords;
* :mod:`.incoming` / :mod:`.limits` — the shared data classes and caps.
"""

from hoacu_xlsx.intake.incoming import IGNORED_NAMES, SEP, WORKBOOK_FORMATS, Incoming, sha256_hex
from hoacu_xlsx.intake.limits import Limits
from hoacu_xlsx.intake.scan import scan_inbox
from hoacu_xlsx.intake.sniff import inspect_bytes, sniff

_sha = sha256_hex   # the name older tests use

__all__ = ["IGNORED_NAMES", "SEP", "WORKBOOK_FORMATS", "Incoming", "Limits", "inspect_bytes", "scan_inbox",
           "sha256_hex", "sniff"]
