"""Compile gettext catalogs (.po → .mo) in pure Python, so that a fresh machine needs no
GNU gettext to run Rencai in English. Handles msgctxt, plurals and multi-line strings;
fuzzy entries are skipped, as msgfmt does."""

import ast
import os
import struct
from pathlib import Path


def parse_po(text: str) -> dict[bytes, bytes]:
    entries: dict[bytes, bytes] = {}
    cur: dict[str, list[str]] = {}
    key = None
    fuzzy = False

    def flush():
        nonlocal cur, fuzzy
        # The header (msgid "") is kept even when fuzzy, as msgfmt does: makemessages
        # writes new catalogs with a fuzzy header, and without the header's charset
        # Python's gettext cannot decode non-ASCII msgids at all.
        is_header = "msgctxt" not in cur and "".join(cur.get("msgid", ["?"])) == ""
        if "msgid" in cur and (not fuzzy or is_header):
            msgid = "".join(cur["msgid"])
            ctx = cur.get("msgctxt")
            if "msgid_plural" in cur:
                msgid += "\0" + "".join(cur["msgid_plural"])
                # numerically, so that msgstr[10] comes after msgstr[9]
                forms = sorted(
                    (k for k in cur if k.startswith("msgstr[")), key=lambda k: int(k[7:-1])
                )
                msgstr = "\0".join("".join(cur[k]) for k in forms)
            else:
                msgstr = "".join(cur.get("msgstr", []))
            if ctx is not None:
                msgid = "".join(ctx) + "\x04" + msgid
            if msgstr.replace("\0", "") or msgid == "":
                entries[msgid.encode()] = msgstr.encode()
        cur, fuzzy = {}, False

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if "msgid" in cur:
                flush()
            fuzzy = True
            continue
        if not line or line.startswith("#"):
            if not line and "msgid" in cur:
                flush()
            continue
        if line.startswith('"'):
            cur.setdefault(key, []).append(ast.literal_eval(line))
            continue
        word, _, rest = line.partition(" ")
        if (
            word in ("msgid", "msgctxt")
            and "msgid" in cur
            and (word == "msgctxt" or "msgstr" in cur or any(k.startswith("msgstr[") for k in cur))
        ):
            flush()
        key = word
        cur[key] = [ast.literal_eval(rest.strip())]
    flush()
    return entries


def write_mo(entries: dict[bytes, bytes], path: Path) -> None:
    keys = sorted(entries)
    ids = b""
    strs = b""
    offsets = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(entries[k])))
        ids += k + b"\0"
        strs += entries[k] + b"\0"
    n = len(keys)
    key_start = 7 * 4 + 16 * n
    value_start = key_start + len(ids)
    koffsets, voffsets = [], []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + key_start]
        voffsets += [l2, o2 + value_start]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    # Written aside and renamed: a server or test run reading the catalog meanwhile (CI
    # runs two at once) sees the old file or the new one, never half of one.
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(
        header
        + struct.pack(f"{len(koffsets)}i", *koffsets)
        + struct.pack(f"{len(voffsets)}i", *voffsets)
        + ids
        + strs
    )
    os.replace(partial, path)


def compile_all(locale_dir: Path) -> list[Path]:
    written = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        write_mo(parse_po(po.read_text(encoding="utf-8")), mo)
        written.append(mo)
    return written
