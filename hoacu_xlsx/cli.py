"""Command line (click), in Vietnamese: a thin layer over the library.

Only click is imported at start-up; each command imports the stages it needs, so
``hoacu-xlsx --help`` stays as fast as click itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# click's own messages (usage errors), in Vietnamese
_VI = {
    "Error: {message}": "Lỗi: {message}",
    "Try {command!r} for help.": "Chạy {command!r} để xem hướng dẫn.",
    "Try '{command} {option}' for help.": "Chạy '{command} {option}' để xem hướng dẫn.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "Did you mean {possibility}?": "Có phải ý bạn là {possibility}?",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing command.": "Thiếu tên lệnh.",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Aborted!": "Đã dừng.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Got unexpected extra argument ({args})": "Thừa tham số ({args})",
    "Got unexpected extra arguments ({args})": "Thừa các tham số ({args})",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} không tồn tại.",
    "File": "Tệp",
    "Directory": "Thư mục",
    "Path": "Đường dẫn",
    "Usage:": "Cách dùng:",
}


def _vi_gettext(message: str) -> str:
    return _VI.get(message, message)


for _mod in (click.exceptions, click.core, click.types, click.parser):
    if hasattr(_mod, "_"):
        _mod._ = _vi_gettext  # type: ignore[attr-defined]


class _ViMixin:
    """Vietnamese headings for click's help pages."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix="Cách dùng: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        opts = [rv for p in self.get_params(ctx)  # type: ignore[attr-defined]
                if isinstance(p, click.Option) and (rv := p.get_help_record(ctx))]
        if opts:
            with formatter.section("Tùy chọn"):
                formatter.write_dl(opts)
        if isinstance(self, click.Group):
            rows = []
            for name in self.list_commands(ctx):
                cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=400)))  # whole first sentence
            if rows:
                with formatter.section("Lệnh"):
                    formatter.write_dl(rows)


class ViCommand(_ViMixin, click.Command):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[TÙY_CHỌN]")
        super().__init__(*args, **kwargs)


class ViGroup(_ViMixin, click.Group):
    command_class = ViCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[TÙY_CHỌN]")
        kwargs.setdefault("subcommand_metavar", "LỆNH [THAM_SỐ]...")
        super().__init__(*args, **kwargs)


def _fail(message: str, code: int = 2) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def common(f: Callable) -> Callable:
    """--dir and --config on every command."""
    f = click.option("--config", "config", type=click.Path(dir_okay=False), default=None, metavar="TỆP",
                     help="Tệp danh mục (.xlsx hoặc .toml). Mặc định: danh_muc.xlsx trong thư mục làm việc, rồi "
                          "danh_muc.toml, nếu không có thì dùng danh mục 2024 có sẵn.")(f)
    f = click.option("--dir", "workdir", type=click.Path(file_okay=False), default=None, metavar="THƯ_MỤC",
                     help="Thư mục làm việc (chứa inbox/, outbox/, ...). Mặc định: thư mục hiện tại.")(f)
    f = click.help_option("-h", "--help", help="Hiện hướng dẫn này rồi thoát.")(f)
    return f


class Env:
    """What every command needs: the working folder and the catalogue."""

    def __init__(self, workdir: str | None, config: str | None, *, create: bool = False) -> None:
        ctx = click.get_current_context()
        root = ctx.find_root().params
        self.workdir = Path(workdir or root.get("workdir") or ".").resolve()
        self.config = config or root.get("config")
        if not create and not self.workdir.is_dir():   # a mistyped --dir must not grow folders
            _fail(f"Không có thư mục làm việc '{self.workdir}'. Kiểm tra lại --dir, hoặc tạo thư mục mới bằng "
                  f"'hoacu-xlsx init --dir \"{self.workdir}\"'.")

    def catalogue(self) -> Any:
        from hoacu_xlsx import catalogue as cat

        try:
            catalogue = cat.load(cat.resolve(self.config, self.workdir))
        except cat.CatalogueError as exc:
            _fail(str(exc))
        for note in catalogue.notes:
            click.secho(note, fg="yellow", err=True)
        return catalogue


@click.group(cls=ViGroup, context_settings=CONTEXT,
             help="hoacu-xlsx — quản lý đợt đề xuất điển hình tiên tiến bằng Excel: tạo sổ đề xuất cho "
                  "từng đơn vị, thu nhận sổ gửi lại, kiểm tra và tổng hợp vào sổ theo dõi chung.\n\n"
                  "Các bước thường dùng: 'hoacu-xlsx generate' (tạo sổ trong outbox/), gửi cho đơn vị, lưu tệp "
                  "nhận được vào inbox/, rồi 'hoacu-xlsx merge' (tổng hợp vào master/).")
@click.option("--dir", "workdir", type=click.Path(file_okay=False), default=None, metavar="THƯ_MỤC",
              help="Thư mục làm việc. Mặc định: thư mục hiện tại.")
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None, metavar="TỆP",
              help="Tệp danh mục (danh_muc.xlsx hoặc .toml) dùng cho mọi lệnh.")
@click.version_option(package_name="hoacu-xlsx", message="%(prog)s %(version)s",
                      help="Hiện phiên bản rồi thoát.")
@click.help_option("-h", "--help", help="Hiện hướng dẫn này rồi thoát.")
def main(workdir: str | None, config: str | None) -> None:
    pass


@main.command(help="Ghi danh mục (danh_muc.xlsx — sửa bằng Excel hoặc LibreOffice) và mẫu trình bày (templates/) "
                   "vào thư mục làm việc. Không có --year: danh mục 2024 có sẵn. Có --year NĂM: bắt đầu đợt mới từ "
                   "danh mục mới nhất trong thư mục (giữ danh mục cũ thành danh_muc_<năm cũ>.xlsx).")
@click.option("--year", type=int, default=None, metavar="NĂM",
              help="Bắt đầu đợt năm NĂM: cùng đơn vị, nhiệm vụ, tiêu chí; hạn nộp dời theo năm.")
@click.option("--toml", "as_toml", is_flag=True, help="Ghi danh mục dạng TOML (danh_muc.toml) thay cho .xlsx.")
@click.option("--force", is_flag=True, help="Ghi đè tệp đã có.")
@common
def init(workdir: str | None, config: str | None, year: int | None, as_toml: bool, force: bool) -> None:
    from hoacu_xlsx import template as tpl

    env = Env(workdir, config, create=True)
    env.workdir.mkdir(parents=True, exist_ok=True)
    if year is not None:
        _start_round(env, year)
    else:
        _write_catalogue(env, config, as_toml, force)
    tpath = env.workdir / tpl.TEMPLATE_RELPATH
    if tpath.exists() and not force:
        click.echo(f"Đã có {tpath} — giữ nguyên.")
    else:
        tpl.write_default_template(tpath)
        click.echo(f"Đã ghi mẫu trình bày {tpath}.")
    from hoacu_xlsx import papers

    for path, written in papers.copy_templates(env.workdir, force):
        click.echo(f"Đã chép mẫu văn bản {path}." if written else f"Đã có {path} — giữ nguyên.")
    for sub in ("inbox", "outbox"):
        (env.workdir / sub).mkdir(exist_ok=True)


def _write_catalogue(env: Env, config: str | None, as_toml: bool, force: bool) -> None:
    from hoacu_xlsx import catalogue as cat
    from hoacu_xlsx import catalogue_book

    target = Path(config) if config else env.workdir / (cat.DEFAULT_FILE if as_toml else cat.BOOK_FILE)
    if target.exists() and not force:
        click.echo(f"Đã có {target} — giữ nguyên (dùng --force để ghi đè).")
        return
    try:
        if cat.is_book(target):
            catalogue_book.write(cat.load(), target)
        else:
            target.write_text(cat.builtin_text(), encoding="utf-8")
    except OSError as exc:
        _fail(f"Không ghi được {target}: {exc.strerror or exc}.")
    click.echo(f"Đã ghi danh mục vào {target}. Mở tệp bằng Excel/LibreOffice để sửa (đơn vị, thôn, địa chỉ thư, "
               "hạn nộp, cán bộ nhận sổ…), xem trang 'Hướng dẫn'." if cat.is_book(target) else
               f"Đã chép danh mục vào {target}. Sửa tệp này (danh sách thôn, địa chỉ thư của đơn vị, ...).")


def _start_round(env: Env, year: int) -> None:
    from hoacu_xlsx import catalogue as cat
    from hoacu_xlsx import new_round

    try:
        result = new_round.start(env.workdir, year, env.config)
    except (new_round.NewRoundError, cat.CatalogueError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"Không chuyển được tệp trong {env.workdir}: {exc.strerror or exc} (có tệp đang mở?).")
    for line in result.lines():
        click.secho(line, fg="yellow" if line.startswith("HẠN NỘP") else None)


@main.command(help="Tạo sổ đề xuất (.xlsx) cho từng đơn vị vào outbox/.")
@click.option("--unit", "units", multiple=True, metavar="MÃ_ĐƠN_VỊ", help="Chỉ tạo cho đơn vị này (lặp lại được).")
@click.option("--template", type=click.Path(dir_okay=False, exists=True), default=None, metavar="TỆP",
              help="Mẫu trình bày. Mặc định: templates/nomination_template.xlsx trong thư mục làm việc.")
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="THƯ_MỤC",
              help="Thư mục ghi sổ. Mặc định: outbox/.")
@click.option("--email", is_flag=True, help="Ghi kèm thư nháp .eml cho từng đơn vị (để gửi bằng Thunderbird/Outlook).")
@common
def generate(workdir: str | None, config: str | None, units: tuple[str, ...], template: str | None,
             out: str | None, email: bool) -> None:
    from hoacu_xlsx import generate as gen

    env = Env(workdir, config)
    cat = env.catalogue()
    try:
        result = gen.run(cat, env.workdir, units=list(units), template=template, outdir=out, email=email)
    except gen.GenerateError as exc:
        _fail(str(exc))
    for line in result.lines():
        click.echo(line)
    for line in result.alerts:
        click.secho(line, fg="red", bold=True, err=True)
    for line in result.warnings:
        click.secho(line, fg="yellow", err=True)


def _parse_now(text: str | None) -> Any:
    if not text:
        return None
    from hoacu_xlsx.clock import parse_when

    dt = parse_when(text)
    if dt is None:
        _fail(f"Không hiểu thời điểm '{text}'; ghi dạng dd/mm/yyyy hoặc dd/mm/yyyy hh:mm.")
    return dt


@main.command(help="Đọc mọi tệp trong inbox/, kiểm tra và tổng hợp vào sổ tổng hợp master/tong_hop_<năm>.xlsx; "
                   "ghi phản hồi cho đơn vị có lỗi vào feedback/.")
@click.option("--inbox", type=click.Path(file_okay=False), default=None, metavar="THƯ_MỤC",
              help="Thư mục tệp nhận về. Mặc định: inbox/.")
@click.option("--now", "now_text", default=None, metavar="NGÀY",
              help="Coi như hôm nay là ngày này (dd/mm/yyyy) khi tính hạn nộp.")
@click.option("--rebuild", is_flag=True, help="Chỉ dựng lại sổ tổng hợp từ kho dữ liệu, không đọc inbox/.")
@click.option("--no-feedback", is_flag=True, help="Không ghi tệp phản hồi cho đơn vị.")
@click.option("-q", "--quiet", is_flag=True, help="Không hiện thanh tiến độ.")
@common
def merge(workdir: str | None, config: str | None, inbox: str | None, now_text: str | None, rebuild: bool,
          no_feedback: bool, quiet: bool) -> None:
    env = Env(workdir, config)
    _run_merge(env, env.catalogue(), Path(inbox) if inbox else None, _parse_now(now_text), rebuild, no_feedback,
               quiet)


def _run_merge(env: Env, cat: Any, inbox: Path | None, now: Any, rebuild: bool, no_feedback: bool,
               quiet: bool) -> None:
    """The merge step, shared by `merge` and `fetch --merge`."""
    from hoacu_xlsx import merge as mg
    from hoacu_xlsx.store import StoreError

    def progress(items: Any, n: int) -> Any:
        if quiet or n < 5:
            return items

        def bar_iter() -> Any:
            with click.progressbar(items, length=n, label="Đang đọc tệp", file=sys.stderr) as bar:
                yield from bar
        return bar_iter()

    try:
        report = mg.run(cat, env.workdir, inbox=inbox, now=now, progress=progress, write_feedback=not no_feedback,
                        rescan=not rebuild)
    except (mg.MergeError, StoreError) as exc:
        _fail(str(exc), 3)
    for line in report.summary_lines():
        click.echo(line)
    for p in report.notices:
        click.secho(str(p), fg="yellow", err=True)


@main.command(help="Kiểm tra một hay nhiều tệp mà không tổng hợp. Mã thoát: 0 không có vấn đề, 1 có lỗi/cảnh báo, "
                   "2 có tệp không đọc được.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True), metavar="TỆP...")
@common
def validate(workdir: str | None, config: str | None, files: tuple[str, ...]) -> None:
    from hoacu_xlsx import merge as mg

    env = Env(workdir, config)
    cat = env.catalogue()
    results = mg.check_files(cat, env.workdir, [Path(f) for f in files])
    code = 0
    for r in results:
        errs = sum(p.is_error for p in r.problems)
        head = f"{r.path.name}: " + (r.unit_name or "không xác định đơn vị")
        if r.unreadable:
            code = 2
            click.secho(f"{head} — KHÔNG ĐỌC ĐƯỢC", fg="red")
        elif r.problems:
            code = max(code, 1)
            click.secho(f"{head} — {r.nominations} điển hình hợp lệ, {errs} lỗi, {len(r.problems) - errs} cảnh báo",
                        fg="yellow")
        else:
            click.secho(f"{head} — {r.nominations} điển hình hợp lệ, không có lỗi", fg="green")
        for p in r.problems:
            click.echo(f"   {p}")
    sys.exit(code)


@main.command(help="Tình hình nộp: đơn vị chưa nộp, đơn vị có lỗi, số ngày đến hạn (theo lần gộp gần nhất).")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (cho script).")
@click.option("--now", "now_text", default=None, metavar="NGÀY", help="Coi như hôm nay là ngày này (dd/mm/yyyy).")
@common
def status(workdir: str | None, config: str | None, as_json: bool, now_text: str | None) -> None:
    import json

    from hoacu_xlsx import merge as mg
    from hoacu_xlsx import picture as P

    env = Env(workdir, config)
    cat = env.catalogue()
    pic = mg.status_picture(cat, env.workdir, _parse_now(now_text))
    from hoacu_xlsx import history as H  # history: replicated / repeated examples
    hist = H.compute(cat, env.workdir, pic)
    if as_json:
        data = {
            "year": cat.year, "deadline": cat.deadline.isoformat(), "days_left": pic.days_left,
            "units": [{"id": s.unit.id, "name": s.unit.name, "status": s.status, "late": s.late,
                       "nominations": s.nominations, "errors": s.errors, "warnings": s.warnings,
                       "latest_file": s.latest_file or None,
                       "received_at": s.received_at.isoformat() if s.received_at else None} for s in pic.units],
            "not_submitted": [s.unit.id for s in pic.units if s.status == P.NOT_SUBMITTED],
            "with_errors": [s.unit.id for s in pic.units if s.status == P.SUBMITTED_ERRORS],
            "assignments": [{"id": a.assignment.id, "item": a.assignment.item, "nominations": a.nominations,
                             "quota_met": a.quota_met} for a in pic.assignments if a.assignment.nominations],
            "history": hist.summary(),  # history
            "materials": {"files": len(pic.materials),   # replication material
                          "without_nomination": sum(1 for m in pic.materials if not m.nomination_id)},
            "last_fetch": _last_fetch(env, as_json=True),
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(pic.deadline_text() + ".")
    if line := _last_fetch(env, as_json=False):
        click.echo(line)
    groups = [(P.NOT_SUBMITTED, "Chưa nộp"), (P.SUBMITTED_ERRORS, "Có lỗi cần sửa"), (P.LATE, "Nộp muộn"),
              (P.SUBMITTED_OK, "Đã nộp hợp lệ")]
    for label, title in groups:
        units = [s for s in pic.units if s.status == label]
        click.echo(f"{title} ({len(units)}):")
        for s in units:
            extra = f" — {s.nominations} điển hình, {s.errors} lỗi" if s.status != P.NOT_SUBMITTED else ""
            click.echo(f"  • {s.unit.name}{extra}")
    click.echo(hist.status_line())  # history
    from hoacu_xlsx.materials import status_line  # replication material

    click.echo(status_line(pic))
    for p in hist.problems:
        click.secho(str(p), fg="yellow", err=True)


def _last_fetch(env: Env, as_json: bool) -> Any:
    """When the mailbox was last fetched (`fetch`), for `status`."""
    from hoacu_xlsx.imap_state import last_run

    run = last_run(env.workdir)
    if as_json:
        return None if run is None else {
            "at": run.finished.isoformat(), "ok": run.ok, "account": run.account, "folder": run.folder,
            "saved": run.saved}
    if run is None:
        return None
    how = f"{run.saved} thư mới" if run.ok else f"bị ngắt giữa chừng sau {run.saved} thư"
    return (f"Nhận thư từ hộp thư lần gần nhất: {run.finished:%d/%m/%Y %H:%M} ({run.account}, thư mục "
            f"'{run.folder}') — {how}.")


def _smtp_send(cat: Any, paths: list[Path], really: bool) -> None:
    from hoacu_xlsx import smtp_send

    try:
        try:
            cfg: Any = smtp_send.SmtpConfig.from_catalogue(cat)
        except smtp_send.MailError:
            if really:
                raise
            cfg = None   # a dry run only checks the drafts
        lines = smtp_send.send_drafts(paths, cfg, dry_run=not really,
                                      password=lambda: click.prompt("Mật khẩu thư điện tử", hide_input=True))
    except smtp_send.MailError as exc:
        _fail(str(exc), 4)
    for line in lines:
        click.echo(line)


@main.command(help="Ghi thư nhắc (.eml) vào reminders/ cho đơn vị chưa nộp hoặc có lỗi (kèm tệp phản hồi, hoặc sổ "
                   "trống cho đơn vị chưa nộp), lời lẽ theo số ngày trước/sau hạn. Chỉ gửi khi có --send, và chỉ "
                   "chạy thử nếu thiếu --gui-that.")
@click.option("--now", "now_text", default=None, metavar="NGÀY", help="Coi như hôm nay là ngày này (dd/mm/yyyy).")
@click.option("--send", is_flag=True, help="Gửi các thư nhắc qua máy chủ SMTP cấu hình trong [smtp] của danh mục.")
@click.option("--gui-that", "really", is_flag=True, help="Gửi thật (mặc định chỉ chạy thử, không gửi gì).")
@common
def remind(workdir: str | None, config: str | None, now_text: str | None, send: bool, really: bool) -> None:
    from hoacu_xlsx import mail
    from hoacu_xlsx import merge as mg

    env = Env(workdir, config)
    cat = env.catalogue()
    pic = mg.status_picture(cat, env.workdir, _parse_now(now_text))
    paths = mail.write_reminders(cat, pic, env.workdir / mail.REMINDER_DIR, env.workdir / "feedback",
                                 outbox=env.workdir / "outbox")
    click.echo(f"{pic.deadline_text()}. Đã ghi {len(paths)} thư nhắc vào {env.workdir / mail.REMINDER_DIR}.")
    wanted = {p.stem.split("_", 2)[2] for p in paths}
    missing = [m for s in pic.units if s.unit.id in wanted and (m := mail.address_problem(s.unit))]
    if missing:
        click.echo("Chưa có địa chỉ thư (điền 'email' trong danh mục): " + ", ".join(missing))
    if send and paths:
        _smtp_send(cat, paths, really)


@main.command(help="Gửi các thư nháp .eml (ví dụ outbox/*.eml) qua máy chủ SMTP cấu hình trong [smtp] của danh mục. "
                   "Mặc định chỉ chạy thử.")
@click.argument("drafts", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True),
                metavar="THƯ_NHÁP.eml...")
@click.option("--gui-that", "really", is_flag=True, help="Gửi thật (mặc định chỉ chạy thử, không gửi gì).")
@common
def send(workdir: str | None, config: str | None, drafts: tuple[str, ...], really: bool) -> None:
    env = Env(workdir, config)
    _smtp_send(env.catalogue(), [Path(d) for d in drafts], really)


class _FetchBar:
    """click.progressbar on stderr, opened once the number of messages is known (hidden by -q)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet, self.bar, self.shown = quiet, None, 0

    def __call__(self, done: int, total: int) -> None:
        if self.quiet or total < 5:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Đang nhận thư", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _parse_day(text: str | None) -> Any:
    if not text:
        return None
    from datetime import datetime

    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        _fail(f"Không hiểu ngày '{text}' của --tu-ngay; ghi dạng dd/mm/yyyy, ví dụ 15/05/2024.", 4)


def _imap_config(env: Env, cat: Any, overrides: dict[str, Any]) -> Any:
    from hoacu_xlsx import imap_settings as IS

    try:
        return IS.from_settings(cat.settings.get("imap"), overrides, env.workdir)
    except IS.ImapSettingsError as exc:
        _fail(str(exc), 4)


@main.command(help="Nhận thư có tệp đính kèm (sổ đề xuất, tệp nén, bài viết .docx/.pdf/ảnh) từ hộp thư IMAP khai "
                   "báo trong bảng [imap] của danh mục, lưu nguyên thư (.eml) vào inbox/. Không xóa, không chuyển, "
                   "không đổi trạng thái thư trên máy chủ (trừ nhãn khi có --danh-dau); thư đã nhận không nhận lại. "
                   "Mật khẩu: biến môi trường HOACU_IMAP_PASSWORD, hoặc được hỏi khi chạy. Mã thoát 4 khi lỗi thư.")
@click.option("--tu-ngay", "since_text", default=None, metavar="NGÀY",
              help="Chỉ xét thư nhận từ ngày này (dd/mm/yyyy).")
@click.option("--thu-muc", "folder", default=None, metavar="THƯ_MỤC",
              help="Thư mục trong hộp thư. Mặc định: 'folder' trong [imap], nếu không có thì INBOX.")
@click.option("--toi-da-mb", "max_mb", default="25", metavar="MB",
              help="Bỏ qua (và nêu tên) thư lớn hơn số MB này. Mặc định: 25.")
@click.option("--danh-dau", "mark", is_flag=True,
              help="Gắn nhãn $HoacuFetched cho thư đã nhận trên máy chủ (chỉ thêm nhãn, không xóa, không đổi đã đọc).")
@click.option("--merge", "then_merge", is_flag=True, help="Nhận xong thì tổng hợp luôn (như lệnh merge).")
@click.option("--now", "now_text", default=None, metavar="NGÀY", help="Với --merge: coi như hôm nay là ngày này.")
@click.option("--host", default=None, metavar="MÁY_CHỦ", help="Máy chủ IMAP (thay 'host' của [imap]).")
@click.option("--port", default=None, metavar="CỔNG", help="Cổng (thay 'port' của [imap]; thường 993 hoặc 143).")
@click.option("--user", default=None, metavar="TÊN", help="Tên đăng nhập (thay 'user' của [imap]).")
@click.option("--security", default=None, metavar="ssl|starttls|none", help="Kiểu mã hóa (thay 'security' của [imap]).")
@click.option("--cafile", default=None, metavar="TỆP",
              help="Tệp chứng chỉ (.pem) riêng của máy chủ để tin cậy (thay 'cafile' của [imap]).")
@click.option("-q", "--quiet", is_flag=True, help="Không hiện thanh tiến độ.")
@common
def fetch(workdir: str | None, config: str | None, since_text: str | None, folder: str | None, max_mb: str,
          mark: bool, then_merge: bool, now_text: str | None, host: str | None, port: str | None, user: str | None,
          security: str | None, cafile: str | None, quiet: bool) -> None:
    import os

    from hoacu_xlsx import fetch as F
    from hoacu_xlsx.imap_settings import PASSWORD_ENV

    env = Env(workdir, config)
    cat = env.catalogue()
    since = _parse_day(since_text)
    try:
        limit = float(max_mb.replace(",", "."))
        if not 0 < limit < 1e6:
            raise ValueError
    except ValueError:
        _fail(f"--toi-da-mb phải là số MB lớn hơn 0 (đang là '{max_mb}').", 4)
    cfg = _imap_config(env, cat, {"host": host, "port": port, "user": user, "security": security,
                                  "folder": folder, "cafile": cafile})
    now = _parse_now(now_text)
    password = os.environ.get(PASSWORD_ENV) or click.prompt(f"Mật khẩu hộp thư {cfg.user}", hide_input=True,
                                                             err=True)
    bar = _FetchBar(quiet)
    try:
        report = F.run(cfg, env.workdir, password, since=since, max_bytes=int(limit * 2**20), mark=mark,
                       progress=bar)
    except F.FetchError as exc:
        bar.close()
        for line in exc.report.lines()[1:] if exc.report and exc.report.saved else []:
            click.echo(line)
        _fail(str(exc), 4)
    bar.close()
    for line in report.lines():
        click.echo(line)
    if then_merge:
        _run_merge(env, cat, None, now, False, False, quiet)


@main.command(help="Chạy thử trọn một vòng trong thư mục tạm (cần LibreOffice và python3-uno): tạo sổ, để "
                   "LibreOffice điền như các đơn vị (có sổ sạch, sổ có lỗi, sổ nộp muộn, sổ gửi hai lần), tổng hợp "
                   "và chỉ chỗ xem kết quả.")
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="THƯ_MỤC",
              help="Thư mục chạy thử. Mặc định: một thư mục tạm mới.")
@common
def demo(workdir: str | None, config: str | None, out: str | None) -> None:
    import tempfile

    from hoacu_xlsx import demo as dm

    env = Env(workdir, config, create=True)
    cat = env.catalogue()
    target = Path(out) if out else Path(tempfile.mkdtemp(prefix="hoacu-demo-"))
    try:
        result = dm.run(cat, target)
    except RuntimeError as exc:
        _fail(str(exc))
    for line in result.lines:
        click.echo(line)


@main.command(help="Soạn văn bản cuối đợt vào reports/ từ kết quả xét chọn trong sổ tổng hợp: danh sách đề nghị "
                   "tôn vinh (.docx, .xlsx), báo cáo kết quả, tờ trình và biểu đồ tổng quan (PDF). Còn điển hình "
                   "chưa xét thì văn bản ghi DỰ THẢO.")
@click.option("--now", "now_text", default=None, metavar="NGÀY", help="Coi như hôm nay là ngày này (dd/mm/yyyy).")
@common
def report(workdir: str | None, config: str | None, now_text: str | None) -> None:
    from hoacu_xlsx import merge as mg
    from hoacu_xlsx import papers
    from hoacu_xlsx.store import StoreError

    env = Env(workdir, config)
    cat = env.catalogue()
    try:
        result = papers.run(cat, env.workdir, _parse_now(now_text))
    except (mg.MergeError, StoreError) as exc:
        _fail(str(exc), 3)
    except papers.PapersError as exc:
        _fail(str(exc), 5)
    for line in result.lines():
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    main()
