"""PPTX and DOCX to PDF with LibreOffice, in a bounded child that dies with its caller.

The only module that knows LibreOffice (app/files/previews.py calls it at upload; it takes plain
arguments and reads no Flask). `to_pdf()` runs this file as a child process
(`python -I convert.py --child SPEC`), which runs `soffice.bin` with:

- a private copy of a hardened profile per conversion: macros off, linked images and other
  linked content blocked, a dead proxy for anything that still tries (profiles are never
  shared, so concurrent conversions cannot clash);
- the input filter pinned to the claimed type, so a file cannot be read as another format;
- an address-space limit, a size limit on files it writes, no core dumps, no network where the
  kernel allows a private network namespace, a clean environment and no inherited descriptors
  (so never the server's listening socket);
- a parent-death signal on the child and on soffice.bin, so a `kill -9` of the worker takes
  the conversion with it, and a timeout after which the whole process group is killed.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

SOFFICE = Path("/usr/lib/libreoffice/program/soffice.bin")
KINDS = {  # input filter, so LibreOffice never guesses the format from the content
    "pptx": "Impress MS PowerPoint 2007 XML",
    "docx": "MS Word 2007 XML",
}
MEDIA_DIRS = ("ppt/media/", "word/media/")
RESTART_EXIT = 81  # soffice.bin asks to be started again after writing a new profile
log = logging.getLogger("bridge.convert")

# Settings every profile gets. Measured with LibreOffice 7.4 (REPORT.md): without
# BlockUntrustedRefererLinks a linked picture is fetched over HTTP and a file:// picture is
# read from the server's disk and embedded in the PDF.
PROFILE_SETTINGS = {
    ("org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel"): "3",
    ("org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution"): "true",
    ("org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks"): "true",
    ("org.openoffice.Office.Writer/Content/Update", "Link"): "2",  # never update links
    ("org.openoffice.Office.Writer/Content/Update", "Field"): "false",
    ("org.openoffice.Inet/Settings", "ooInetProxyType"): "1",  # a proxy that answers nothing
    ("org.openoffice.Inet/Settings", "ooInetHTTPProxyName"): "127.0.0.1",
    ("org.openoffice.Inet/Settings", "ooInetHTTPProxyPort"): "9",
    ("org.openoffice.Inet/Settings", "ooInetHTTPSProxyName"): "127.0.0.1",
    ("org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort"): "9",
    ("org.openoffice.Inet/Settings", "ooInetNoProxy"): "",
}


class ConversionError(Exception):
    """A reason, fit to show the uploader, why no preview PDF could be made."""


NOT_INSTALLED = "No preview: LibreOffice is not installed on this server."


@dataclass(frozen=True)
class Limits:
    """Bounds on one conversion.

    memory_mb is an address-space limit, so it must sit well above what a legitimate file
    needs: LibreOffice does not fail when an allocation is refused, it leaves the picture out
    and still exits 0 (a 35 MB deck of 20 photos peaks at 1.2 GB of address space).
    """

    timeout_s: float = 90.0
    memory_mb: int = 3072
    output_mb: int = 512
    max_image_pixels: int = 100_000_000      # one picture, decoded
    max_total_image_pixels: int = 400_000_000


def available(soffice: Path = SOFFICE) -> bool:
    """Whether LibreOffice is installed (the upload still succeeds without it, with no preview)."""
    return soffice.is_file() and os.access(soffice, os.X_OK)


def to_pdf(source: Path, kind: str, dest: Path | None = None, *, limits: Limits = Limits(),
           soffice: Path = SOFFICE, profile_root: Path | None = None) -> Path:
    """Convert `source` (a checked PPTX or DOCX) to a PDF at `dest`, or raise ConversionError.

    `dest` defaults to `source` with a .pdf suffix; it appears complete or not at all.
    """
    if kind not in KINDS:
        raise ConversionError(f"Bridge cannot make a preview of a {kind} file.")
    if not available(soffice):
        raise ConversionError(NOT_INSTALLED)
    source = Path(source).resolve()
    dest = Path(dest).resolve() if dest else source.with_suffix(".pdf")
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=dest.parent))
    try:
        document = work / "in" / f"document.{kind}"  # a fixed name: nothing of the user's reaches argv
        document.parent.mkdir()
        shutil.copyfile(source, document)
        profile = work / "profile"
        shutil.copytree(template_profile(soffice, profile_root or default_profile_root()), profile, symlinks=True)
        spec = {"parent": os.getpid(), "soffice": str(soffice), "document": str(document), "kind": kind,
                "profile": str(profile), "out": str(work / "out"), "limits": asdict(limits)}
        result = _run_child(spec, work, limits.timeout_s)
        pdf = work / "out" / "document.pdf"
        if "error" in result:
            raise ConversionError(result["error"])
        if not pdf.is_file() or _head(pdf) != b"%PDF-":
            raise ConversionError("No preview: LibreOffice could not read this file.")
        os.replace(pdf, dest)
        return dest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(5)


def _run_child(spec: dict, work: Path, timeout_s: float) -> dict:
    """Run the child in its own session; kill the session if even the child overruns."""
    command = [sys.executable, "-I", str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=work, env=_clean_env(work), close_fds=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=timeout_s + 15)  # the child enforces timeout_s itself
    except subprocess.TimeoutExpired:
        _kill_group(child.pid)
        child.communicate()
        return {"error": f"No preview: the conversion took longer than {timeout_s:.0f} s."}
    finally:
        if child.poll() is None:  # an exception (even KeyboardInterrupt) while waiting
            _kill_group(child.pid)
            child.wait()
    _kill_group(child.pid)  # stragglers soffice.bin may have started (gpg, paperconf)
    try:
        result = json.loads(out)
    except ValueError:
        log.warning("converter child failed (%s): %s", child.returncode, err.decode(errors="replace")[-2000:])
        return {"error": "No preview: the converter failed."}
    if "log" in result:
        log.warning("LibreOffice: %s: %s", result["error"], result["log"])
    return result


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _clean_env(work: Path) -> dict[str, str]:
    home = work / "home"
    home.mkdir(exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8",
            "SAL_USE_VCLPLUGIN": "svp"}


# -- the hardened profile ----------------------------------------------------------------------

_template_lock = threading.Lock()


def profile_xcu() -> str:
    items = "\n".join(
        f'<item oor:path="/{path}"><prop oor:name="{name}" oor:op="fuse" oor:finalized="true">'
        f"<value>{value}</value></prop></item>"
        for (path, name), value in PROFILE_SETTINGS.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            f"{items}\n</oor:items>\n")


def template_profile(soffice: Path, root: Path) -> Path:
    """A profile LibreOffice has initialised once with our settings, built once per settings and
    installation; each conversion gets a copy, so none runs on a profile another has touched."""
    key = hashlib.sha256(profile_xcu().encode() + str(soffice.stat().st_mtime_ns).encode()).hexdigest()[:12]
    final = root / f".lo-profile-{key}"
    with _template_lock:
        if (final / "user" / "registrymodifications.xcu").is_file():
            return final
        building = Path(tempfile.mkdtemp(prefix=".lo-profile-building-", dir=root))
        try:
            profile = building / "profile"
            (profile / "user").mkdir(parents=True)
            (profile / "user" / "registrymodifications.xcu").write_text(profile_xcu())
            spec = {"parent": os.getpid(), "soffice": str(soffice), "profile": str(profile),
                    "init_only": True, "limits": asdict(Limits())}
            result = _run_child(spec, building, 60)
            if "error" in result:
                raise ConversionError(result["error"])
            try:
                os.rename(profile, final)  # another process may have won the race: use its copy
            except OSError:
                pass
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return final


def default_profile_root() -> Path:
    """A directory of this user's only, for the template profile."""
    root = Path(tempfile.gettempdir()) / f"bridge-convert-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.stat().st_uid != os.getuid() or root.is_symlink():
        raise ConversionError("No preview: the converter's working directory is not safe.")
    return root


# -- the child ---------------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent: int) -> None:
    """SIGKILL when the thread that started us ends; if it already has, stop now."""
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _soffice_preexec(limits: dict, child_pid: int):
    """Runs in the forked soffice.bin before exec (the child is single-threaded, so this is safe)."""
    def apply() -> None:
        _die_with_parent(child_pid)
        memory = limits["memory_mb"] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        output = limits["output_mb"] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (output, output))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
        _libc().unshare(flags)  # best effort: refused in some containers; the profile still blocks links
    return apply


def _check_images(document: Path, limits: dict) -> str | None:
    """A reason to refuse a package whose pictures would take minutes to decode, or None.

    A 29 KB deck holding one 30,000 x 30,000 PNG kept LibreOffice busy for 95 s.
    """
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # only the header is read here
    total = 0
    if not zipfile.is_zipfile(document):  # an encrypted Office file is an OLE container, not a zip
        return "No preview: this file is password-protected or not an Office Open XML package."
    with zipfile.ZipFile(document) as archive:
        for info in archive.infolist():
            if not info.filename.startswith(MEDIA_DIRS):
                continue
            try:
                with archive.open(info) as fh, Image.open(fh) as image:
                    pixels = image.width * image.height
            except Exception:  # formats Pillow does not read (SVG, EMF variants): the timeout bounds them
                continue
            if pixels > limits["max_image_pixels"]:
                return (f"No preview: a picture in this file is {pixels / 1e6:.0f} megapixels "
                        f"(the limit is {limits['max_image_pixels'] / 1e6:.0f}).")
            total += pixels
    if total > limits["max_total_image_pixels"]:
        return f"No preview: the pictures in this file add up to {total / 1e6:.0f} megapixels."
    return None


def _soffice_command(spec: dict) -> list[str]:
    command = [spec["soffice"], f"-env:UserInstallation={Path(spec['profile']).as_uri()}", "--headless",
               "--invisible", "--nocrashreport", "--nodefault", "--nofirststartwizard", "--nolockcheck",
               "--nologo", "--norestore"]
    if spec.get("init_only"):
        return command + ["--terminate_after_init"]
    return command + [f"--infilter={KINDS[spec['kind']]}", "--convert-to", "pdf", "--outdir", spec["out"],
                      spec["document"]]


def _child(spec: dict) -> dict:
    _die_with_parent(spec["parent"])
    limits = spec["limits"]
    if not spec.get("init_only"):
        reason = _check_images(Path(spec["document"]), limits)
        if reason:
            return {"error": reason}
    deadline = time.monotonic() + limits["timeout_s"]
    for _attempt in range(2):
        office = subprocess.Popen(_soffice_command(spec), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, close_fds=True,
                                  preexec_fn=_soffice_preexec(limits, os.getpid()))
        try:
            _, err = office.communicate(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            office.kill()
            office.wait()
            return {"error": f"No preview: the conversion took longer than {limits['timeout_s']:.0f} s."}
        if office.returncode != RESTART_EXIT:
            break
    if office.returncode < 0:
        name = signal.Signals(-office.returncode).name
        return {"error": f"No preview: LibreOffice stopped ({name}); the file may need more memory than allowed.",
                "log": err.decode(errors="replace")[-500:]}
    if office.returncode != 0:
        return {"error": f"No preview: LibreOffice failed (exit {office.returncode}).",
                "log": err.decode(errors="replace")[-500:]}
    return {"ok": True}


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    json.dump(_child(json.loads(sys.argv[2])), sys.stdout)
