"""The ``generate`` job: catalogue + template -> one workbook per unit in outbox/.

Every issued token is recorded in the store, so a returned file is identified by
its token even when the unit edits the visible unit name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hoacu_xlsx import builder
from hoacu_xlsx import template as tpl
from hoacu_xlsx.catalogue import Catalogue


class GenerateError(Exception):
    """Generation cannot go on; the message is Vietnamese."""


@dataclass
class GenerateResult:
    outdir: Path
    built: list[builder.Built]
    template: str
    drafts: list[Path] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)    # must be fixed before sending (shown in red)
    warnings: list[str] = field(default_factory=list)  # worth fixing (shown in yellow)
    changes: list[str] = field(default_factory=list)   # catalogue changes since the last generate

    def lines(self) -> list[str]:
        out = [f"Đã tạo {len(self.built)} sổ đề xuất trong {self.outdir} (mẫu trình bày: {self.template}):"]
        out += [f"  • {b.path.name} — {b.unit.name}" for b in self.built]
        if self.drafts:
            out.append(f"Đã ghi {len(self.drafts)} thư nháp .eml bên cạnh các sổ.")
        if self.no_address:
            out.append("Chưa có địa chỉ thư (điền 'email' trong danh mục): " + ", ".join(self.no_address))
        return out + self.changes


def round_alerts(catalogue: Catalogue, today: date) -> tuple[list[str], list[str]]:
    """What the officer must check before sending: a deadline already past (alert), no contact (warning)."""
    alerts, warnings = [], []
    if catalogue.deadline < today:
        alerts.append(f"CHÚ Ý: hạn nộp {catalogue.deadline:%d/%m/%Y} đã qua (hôm nay {today:%d/%m/%Y}). Mọi sổ sẽ in "
                      "hạn này — sửa 'Hạn nộp' ở trang 'Đợt' của danh mục rồi chạy lại 'hoacu-xlsx generate'.")
    r = catalogue.receiver
    missing = [what for what, v in (("họ tên", r.name), ("điện thoại", r.phone), ("thư điện tử", r.email)) if not v]
    if missing:
        warnings.append(f"Chưa có {', '.join(missing)} của cán bộ nhận sổ (các dòng 'Cán bộ nhận' ở trang 'Đợt'): "
                        "mọi sổ in thông tin liên hệ này để đơn vị hỏi và gửi sổ về.")
    if (alerts or warnings) and _is_builtin(catalogue):
        warnings.append("Đang dùng danh mục 2024 có sẵn: chạy 'hoacu-xlsx init' để có danh_muc.xlsx trong thư mục làm "
                        "việc (hoặc 'hoacu-xlsx init --year <năm>' cho đợt mới), sửa trong Excel rồi tạo lại sổ.")
    return alerts, warnings


def _is_builtin(catalogue: Catalogue) -> bool:
    from pathlib import Path

    from hoacu_xlsx.catalogue import builtin_path

    return bool(catalogue.source) and Path(catalogue.source).resolve() == builtin_path().resolve()


def _other_rounds(store: object, year: int) -> list[str]:
    """Workbooks of other years recorded in this folder's store: the rounds would mix."""
    years = sorted(y for (y,) in store.conn.execute(  # type: ignore[attr-defined]
        "SELECT DISTINCT year FROM issued WHERE year IS NOT NULL AND year != ?", (year,)))
    if not years:
        return []
    return [f"Kho dữ liệu store/ của thư mục này đang giữ sổ đợt năm {', '.join(map(str, years))}. Để các đợt không "
            f"lẫn vào nhau, hãy bắt đầu đợt mới bằng 'hoacu-xlsx init --year {year}' (giữ đợt cũ trong "
            f"dot_<năm>/) thay vì chỉ sửa năm trong danh mục."]


def run(catalogue: Catalogue, workdir: Path, *, units: list[str] | None = None, template: str | None = None,
        outdir: str | Path | None = None, email: bool = False, today: date | None = None) -> GenerateResult:
    from hoacu_xlsx import catalogue_changes

    chosen = catalogue.units_with_nominations()
    if units:
        unknown = [u for u in units if catalogue.unit(u) is None]
        if unknown:
            raise GenerateError(f"Không có đơn vị mã {', '.join(unknown)} trong danh mục.")
        chosen = [u for u in chosen if u.id in units]
    tpath = tpl.find_template(workdir, template)
    try:
        style = tpl.load_style(tpath)
    except Exception as exc:  # a template the officer broke: say so, never a traceback
        raise GenerateError(f"Không đọc được mẫu trình bày '{tpath}': {exc}. "
                            "Sửa lại tệp mẫu hoặc xóa nó để dùng mẫu có sẵn.") from None
    out = Path(outdir) if outdir else workdir / "outbox"
    before = catalogue_changes.previous(catalogue, out)
    (workdir / "inbox").mkdir(parents=True, exist_ok=True)  # where the officer will save what comes back
    try:
        built = builder.build_all(catalogue, out, style, chosen)
    except OSError as exc:
        raise GenerateError(f"Không ghi được vào thư mục '{out}': {exc.strerror or exc}.") from None
    from hoacu_xlsx.store import Store

    with Store.open(workdir) as store:
        mixed = _other_rounds(store, catalogue.year)
        store.record_issued(catalogue.year, [(b.meta.token, b.unit.id, b.path.name, b.meta.generated_at) for b in built])
    result = GenerateResult(out, built, style.source)
    result.alerts, result.warnings = round_alerts(catalogue, today or date.today())
    result.warnings += mixed
    result.changes = catalogue_changes.describe(before, catalogue) if before else []
    catalogue_changes.save(catalogue, out)
    if email:
        from hoacu_xlsx import mail

        result.drafts, result.no_address = mail.write_drafts(catalogue, built)
    return result
