"""Hand-built broken and hostile files (the only hand-built bytes in the test corpus).

Each builder returns bytes; the normal workbooks they start from come from real writers.
Reused by the intake tests and by later suites (merge, odd files, memory).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def xlsx(text: str = "Tên", sheet: str = "Mục 1") -> bytes:
    """A small real workbook written by xlsxwriter."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(sheet)
    ws.write("A1", text)
    ws.write("B2", 1980)
    wb.close()
    return buf.getvalue()


def replace_parts(good: bytes, edit) -> bytes:
    """Copy a zip package, passing every (name, body) through ``edit`` (returns new body or None to keep)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            body = src.read(item)
            new = edit(item.filename, body)
            z.writestr(item.filename, body if new is None else new)
    return out.getvalue()


# --------------------------------------------------------------------------- raw zip writing

def raw_zip(entries: list[dict]) -> bytes:
    """A zip written byte by byte, so that headers can lie.

    Each entry: name (bytes), data (already compressed), method (0/8), crc, size (declared
    uncompressed), flags (0x800 = UTF-8 name).
    """
    out = bytearray()
    central = bytearray()
    for e in entries:
        off = len(out)
        name, data = e["name"], e["data"]
        hdr = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, e.get("flags", 0), e.get("method", 8), 0, 0x21,
                          e.get("crc", 0), len(data), e["size"], len(name), 0)
        out += hdr + name + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, e.get("flags", 0), e.get("method", 8), 0,
                               0x21, e.get("crc", 0), len(data), e["size"], len(name), 0, 0, 0, 0, 0, off) + name
    cd_off = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), cd_off, 0)
    return bytes(out)


def deflate_zeros(megabytes: int) -> bytes:
    """Raw deflate of ``megabytes`` MiB of '<' bytes, built from one repeated block (about 1 KB per MiB)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(b"<" * 2**20) + c.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + c.flush()


def zip_bomb_lying(megabytes: int = 2048) -> bytes:
    """An .xlsx whose sheet part declares 1 KB but inflates to ``megabytes`` MiB."""
    good = xlsx()
    with zipfile.ZipFile(io.BytesIO(good)) as src:
        entries = [{"name": i.filename.encode(), "data": zlib.compress(src.read(i))[2:-4], "size": i.file_size,
                    "crc": i.CRC} for i in src.infolist() if i.filename != "xl/worksheets/sheet1.xml"]
    entries.append({"name": b"xl/worksheets/sheet1.xml", "data": deflate_zeros(megabytes), "size": 1000,
                    "crc": 0})
    return raw_zip(entries)


def zip_bomb_honest(megabytes: int = 4096) -> bytes:
    """An .xlsx whose sheet part honestly declares gigabytes (refused from the header alone)."""
    good = xlsx()
    with zipfile.ZipFile(io.BytesIO(good)) as src:
        entries = [{"name": i.filename.encode(), "data": zlib.compress(src.read(i))[2:-4], "size": i.file_size,
                    "crc": i.CRC} for i in src.infolist() if i.filename != "xl/worksheets/sheet1.xml"]
    entries.append({"name": b"xl/worksheets/sheet1.xml", "data": deflate_zeros(64),
                    "size": min(megabytes * 2**20, 0xFFFFFFFE), "crc": 0})
    return raw_zip(entries)


def zip_of_bombs(copies: int = 16) -> bytes:
    """A plain .zip holding many lying bombs: the per-file inflation budget stops it."""
    bomb = {"data": deflate_zeros(150), "size": 1000, "crc": 0}
    return raw_zip([dict(bomb, name=f"so_{i}.xml".encode()) for i in range(copies)])


def big_members_zip(members: int = 6, megabytes: int = 49) -> bytes:
    """Honest headers, real inflation: members of 49 MiB each until the per-file budget (200 MiB) runs out."""
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(b"<" * 2**20, crc)
    member = {"data": deflate_zeros(megabytes), "size": megabytes * 2**20, "crc": crc}
    return raw_zip([dict(member, name=f"phan_{i}.xlsx".encode()) for i in range(members)])


def nested_zip_bomb(levels: int = 6, copies: int = 16) -> bytes:
    """42.zip-style: zips of zips of zips …, the innermost a 1 GiB lying bomb."""
    inner = raw_zip([{"name": b"0.dat", "data": deflate_zeros(1024), "size": 1000, "crc": 0}])
    for level in range(levels):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(copies):
                z.writestr(f"lop{level}_{i}.zip", inner)
        inner = buf.getvalue()
    return inner


def bzip2_member() -> bytes:
    """A zip member compressed with bzip2 (refused: one bzip2 read step can inflate to gigabytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("so.xlsx", xlsx())
    return buf.getvalue()


# --------------------------------------------------------------------------- XML attacks

_LOL = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
BILLION_LAUGHS = f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">{_LOL}]><workbook>&l9;</workbook>'
XXE = '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook>&x;</workbook>'


def billion_laughs_xlsx() -> bytes:
    return replace_parts(xlsx(), lambda n, b: BILLION_LAUGHS.encode() if n == "xl/workbook.xml" else None)


def xxe_xlsx() -> bytes:
    return replace_parts(xlsx(), lambda n, b: XXE.encode() if n == "xl/sharedStrings.xml" else None)


def xxe_utf16_xlsx() -> bytes:
    """The DTD written in UTF-16 (a byte search for '<!DOCTYPE' would miss it)."""
    return replace_parts(xlsx(), lambda n, b: XXE.replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
                         .encode("utf-16") if n == "xl/workbook.xml" else None)


def utf7_xlsx() -> bytes:
    """'+ADw-!DOCTYPE' is '<!DOCTYPE' in UTF-7."""
    body = ('<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE w +AFs-+ADw-!ENTITY x SYSTEM "file:///etc/passwd"'
            "+AD4-+AF0-+AD4-<workbook/>")
    return replace_parts(xlsx(), lambda n, b: body.encode() if n == "xl/workbook.xml" else None)


def ods_with_dtd(good_ods: bytes) -> bytes:
    return replace_parts(good_ods, lambda n, b: XXE.encode() if n == "content.xml" else None)


# --------------------------------------------------------------------------- huge used ranges

def _add_to_sheet1(extra: bytes, good: bytes | None = None, dimension: bytes | None = None) -> bytes:
    def edit(n: str, b: bytes) -> bytes | None:
        if n != "xl/worksheets/sheet1.xml":
            return None
        if dimension:
            b = b.replace(b'<dimension ref="A1:B2"/>', b'<dimension ref="' + dimension + b'"/>')
        return b.replace(b"</sheetData>", extra + b"</sheetData>")
    return replace_parts(good or xlsx(), edit)


def far_cell_xlsx() -> bytes:
    return _add_to_sheet1(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')


def far_cell_with_dimension_xlsx() -> bytes:
    return _add_to_sheet1(b'<row r="1048576"><c r="XFD1048576" t="n"><v>7</v></c></row>',
                          dimension=b"A1:XFD1048576")


def dimension_only_xlsx() -> bytes:
    """A big <dimension> alone: python-calamine ignores it, so the file passes."""
    return _add_to_sheet1(b"", dimension=b"A1:XFD1048576")


def far_empty_styled_cell_xlsx() -> bytes:
    """A far cell with a style but no value: nothing is allocated, the file passes."""
    return _add_to_sheet1(b'<row r="1048576"><c r="XFD1048576" s="0"/></row>')


def far_cell_without_ref_xlsx() -> bytes:
    """Cells without r= are placed by position: a valued cell in row 1,048,576."""
    return _add_to_sheet1(b'<row r="1048576"><c><v>1</v></c></row>')


def lowercase_far_cell_xlsx() -> bytes:
    return _add_to_sheet1(b'<row r="1048576"><c r="xfd1048576"><v>1</v></c></row>')


def shared_strings_count_xlsx() -> bytes:
    """uniqueCount=4e9: python-calamine pre-allocates it and the process aborts."""
    return replace_parts(xlsx(), lambda n, b: b.replace(b'uniqueCount="1"', b'uniqueCount="4000000000"')
                         if n == "xl/sharedStrings.xml" else None)


def ods_rows_with_content(good_ods: bytes, rows: int = 1_000_000) -> bytes:
    row = (f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell office:value-type="float" '
           'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>').encode()
    return replace_parts(good_ods, lambda n, b: b.replace(b"</table:table>", row + b"</table:table>", 1)
                         if n == "content.xml" else None)


def ods_empty_rows_then_content(good_ods: bytes) -> bytes:
    """Empty repeated rows cost nothing at the end, but a value after them makes them count."""
    rows = (b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
            b'table:number-columns-repeated="1024"/></table:table-row><table:table-row><table:table-cell '
            b'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    return replace_parts(good_ods, lambda n, b: b.replace(b"</table:table>", rows + b"</table:table>", 1)
                         if n == "content.xml" else None)


def ods_columns_with_content(good_ods: bytes) -> bytes:
    row = (b'<table:table-row><table:table-cell table:number-columns-repeated="16000" office:value-type="float" '
           b'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>')
    return replace_parts(good_ods, lambda n, b: b.replace(b"</table:table>", row + b"</table:table>", 1)
                         if n == "content.xml" else None)


def xls_far_cell(good_xls: bytes) -> bytes:
    """A real .xls with its first value record moved to IV65536 (python-calamine: 1 GB)."""
    d = bytearray(good_xls)
    i = d.find(b"\x09\x08\x10\x00\x00\x06")     # workbook globals BOF (BIFF8)
    while i + 4 <= len(d):
        rt, ln = struct.unpack_from("<HH", d, i)
        if rt in (0x0203, 0x027E, 0x00FD):
            struct.pack_into("<HH", d, i + 4, 65535, 255)
            return bytes(d)
        i += 4 + ln
    raise ValueError("no value record found")


# --------------------------------------------------------------------------- containers, names

def traversal_zip(good: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../ngoai_thu_muc.xlsx", good)
        z.writestr("/etc/cron.d/x.xlsx", good)
        z.writestr("C:/Windows/x.xlsx", good)
        z.writestr("đúng chỗ.xlsx", good)
    return buf.getvalue()


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: ă â ê ô ơ ư đ precomposed, tone marks combining."""
    import unicodedata

    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], d[1:]
        for i, m in enumerate(marks):
            cand = unicodedata.normalize("NFC", base + m)
            try:
                out += cand.encode("cp1258") + (marks[:i] + marks[i + 1:]).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            out += d.encode("cp1258")
    return out


def zip_legacy_names(good: bytes) -> bytes:
    """Member names in UTF-8 without the UTF-8 flag (macOS, old 7-Zip) and in cp1258 (Vietnamese Windows)."""
    data = zlib.compress(good)[2:-4]
    crc = zlib.crc32(good)
    return raw_zip([
        {"name": "Sổ Hội Nông dân.xlsx".encode("utf-8"), "data": data, "size": len(good), "crc": crc},
        {"name": to_cp1258("Trạm Y tế.xlsx"), "data": data, "size": len(good), "crc": crc},
    ])


# --------------------------------------------------------------------------- Compound File (OLE) by hand

def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal Compound File v3 (512-byte sectors); every stream padded to 4096 bytes so it
    lives in regular sectors (no mini stream needed)."""
    ss = 512
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    bodies = [(n, s + b"\x00" * max(0, 4096 - len(s))) for n, s in streams.items()]
    n_dir = (len(bodies) + 1 + 3) // 4
    sectors: list[bytes] = []
    fat: list[int] = [fatsect]                      # sector 0: the FAT
    dir_start = 1
    for i in range(n_dir):
        fat.append(dir_start + i + 1 if i < n_dir - 1 else end)
    starts = []
    nxt = 1 + n_dir
    for _, body in bodies:
        count = (len(body) + ss - 1) // ss
        starts.append(nxt)
        for k in range(count):
            fat.append(nxt + k + 1 if k < count - 1 else end)
        nxt += count
    assert len(fat) <= ss // 4
    fat += [free] * (ss // 4 - len(fat))
    sectors.append(struct.pack(f"<{ss // 4}I", *fat))

    def entry(name: str, kind: int, start: int, size: int, right: int = free, child: int = free) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        e = raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1) + struct.pack("<III", free, right, child)
        e += b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16 + struct.pack("<II", start, size) + b"\x00" * 4
        return e

    # the root's children hang as a chain of right siblings (a valid, if unbalanced, tree)
    entries = [entry("Root Entry", 5, end, 0, child=1 if bodies else free)] + [
        entry(n, 2, st, len(b), right=i + 2 if i + 1 < len(bodies) else free)
        for i, ((n, b), st) in enumerate(zip(bodies, starts))]
    dirbytes = b"".join(entries).ljust(n_dir * ss, b"\x00")
    sectors += [dirbytes[i:i + ss] for i in range(0, len(dirbytes), ss)]
    for _, body in bodies:
        padded = body.ljust(((len(body) + ss - 1) // ss) * ss, b"\x00")
        sectors += [padded[i:i + ss] for i in range(0, len(padded), ss)]
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\x00" * 6 + struct.pack("<IIIIIIIII", 0, 1, dir_start, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    assert len(header) == 512
    return header + b"".join(sectors)


def encrypted_ooxml() -> bytes:
    """What Excel writes for a password-protected .xlsx: a CFB holding EncryptionInfo + EncryptedPackage."""
    return cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x00" * 64})


def _biff(rt: int, body: bytes) -> bytes:
    return struct.pack("<HH", rt, len(body)) + body


def xls_with_filepass() -> bytes:
    """An Excel 97–2003 workbook whose globals carry a FILEPASS record (RC4 password)."""
    bof = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06))
    filepass = _biff(0x002F, b"\x01\x00\x01\x00" + b"\x00" * 48)
    pad = _biff(0x00E1, b"\x00\x00") * 400
    return cfb({"Workbook": bof + filepass + pad + _biff(0x000A, b"")})


def outlook_msg() -> bytes:
    return cfb({"__substg1.0_0037001F": "Sổ đề xuất".encode("utf-16-le"), "__properties_version1.0": b"\x00" * 32})


def word97_doc() -> bytes:
    return cfb({"WordDocument": b"\xec\xa5" + b"\x00" * 100})


# --------------------------------------------------------------------------- broken sector chains in a real .xls

def _ole_fields(data: bytes) -> dict:
    ss = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    n_fat, first_dir, _, _, first_mini, n_mini = struct.unpack_from("<IIIIII", data, 0x2C)
    fat_sids = [s for s in struct.unpack_from("<109I", data, 0x4C)[:n_fat]]
    return {"ss": ss, "first_dir": first_dir, "first_mini": first_mini, "n_mini": n_mini, "fat_sids": fat_sids}


def _fat_offset(data: bytes, table: str, index: int) -> int:
    """Byte offset of entry ``index`` of the FAT (or of the mini-FAT) of a small compound file."""
    f = _ole_fields(data)
    ss, per = f["ss"], f["ss"] // 4
    if table == "fat":
        sector = f["fat_sids"][index // per]
    else:
        assert index < per, "the mini-FAT of a small file fits one sector"
        sector = f["first_mini"]
    return (sector + 1) * ss + 4 * (index % per)


def _set_entry(data: bytes, table: str, index: int, value: int) -> bytes:
    d = bytearray(data)
    struct.pack_into("<I", d, _fat_offset(data, table, index), value)
    return bytes(d)


def _dir_entry(data: bytes, wanted: str) -> tuple[int, int, int]:
    """(byte offset, first sector, size) of a directory entry, found in the first directory sector."""
    f = _ole_fields(data)
    base = (f["first_dir"] + 1) * f["ss"]
    for off in range(base, base + f["ss"], 128):
        nlen, = struct.unpack_from("<H", data, off + 64)
        if data[off:off + nlen - 2].decode("utf-16-le", "replace") == wanted:
            start, size = struct.unpack_from("<II", data, off + 116)
            return off, start, size
    raise ValueError(wanted)


def _chain(data: bytes, table: str, start: int) -> list[int]:
    out, sid = [], start
    while sid < 0xFFFFFFF0 and len(out) < 10_000:
        out.append(sid)
        sid, = struct.unpack_from("<I", data, _fat_offset(data, table, sid))
    return out


def ole_directory_loop(good_xls: bytes, megabytes: int = 2) -> bytes:
    """The 2 MB .xls whose directory sector chain points back to itself (python-calamine: 24 GB, 68 s)."""
    first_dir = _ole_fields(good_xls)["first_dir"]
    looped = _set_entry(good_xls, "fat", first_dir, first_dir)
    return looped + b"\x00" * (megabytes * 2**20 - len(looped))


def ole_fat_loop(good_xls: bytes) -> bytes:
    """The mini-stream's chain in the FAT ends by pointing back to its first sector."""
    _, start, _ = _dir_entry(good_xls, "Root Entry")
    return _set_entry(good_xls, "fat", _chain(good_xls, "fat", start)[-1], start)


def ole_minifat_loop(good_xls: bytes, stream: str = "Workbook") -> bytes:
    """A stream kept in the mini-stream (LibreOffice's small Workbook) whose mini chain loops."""
    _, start, _ = _dir_entry(good_xls, stream)
    return _set_entry(good_xls, "minifat", _chain(good_xls, "minifat", start)[-1], start)


def ole_minifat_chain_loop(good_xls: bytes) -> bytes:
    """The mini-FAT's own sector chain points back to itself."""
    first = _ole_fields(good_xls)["first_mini"]
    return _set_entry(good_xls, "fat", first, first)


def ole_sector_out_of_range(good_xls: bytes) -> bytes:
    """The mini-stream's chain jumps to a sector far past the end of the file."""
    _, start, _ = _dir_entry(good_xls, "Root Entry")
    return _set_entry(good_xls, "fat", start, 0x00100000)


def ole_stream_larger_than_file(good_xls: bytes) -> bytes:
    """The Workbook entry declares 2 GB."""
    off, _, _ = _dir_entry(good_xls, "Workbook")
    d = bytearray(good_xls)
    struct.pack_into("<I", d, off + 120, 0x7FFFFF00)
    return bytes(d)


def xls_reader_panic(good_xls: bytes) -> bytes:
    """A real .xls whose first BOUNDSHEET record places its sheet far past the stream.

    Every sector chain is sound, so the intake passes it; python-calamine panics on it
    (``PanicException``, a BaseException): only the reading worker may suffer.
    """
    import re

    d = bytearray(good_xls)
    for m in re.finditer(rb"\x85\x00", bytes(d)):
        i = m.start()
        if i + 12 > len(d):
            break
        cb, pos, state, dt, cch, high = struct.unpack_from("<HIBBBB", d, i + 2)
        if 8 <= cb <= 300 and 0 < pos < len(d) and state <= 2 and dt == 0 and cb == 8 + cch * (2 if high else 1):
            struct.pack_into("<I", d, i + 4, 0xAA000092)
            return bytes(d)
    raise ValueError("no BOUNDSHEET record found")
