#!/usr/bin/env python3
"""The bad-input corpus (tests/bad-input/cases.txt): runs `copydesk dedup` on each
case and checks its exit code, its message, the summary counts (read = kept +
removed + rejected, and stdout holds the kept lines) and that a failed run leaves
no output behind and an existing output file as it was. Also checks that a 100 MB
line is rejected with bounded memory, and a full disk on a 64 KiB tmpfs (when this
runs as root and can mount one; skipped otherwise).

    run.py COPYDESK [NAME...]
"""
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "inputs")
SUMMARY = re.compile(r"^copydesk: read (\d+) documents: kept (\d+), removed (\d+), rejected (\d+)$")
PREVIOUS = b"the output of an earlier run\n"
BIG_LINE = 100 << 20
# Peak RSS allowed while a 100 MB line goes by: the 16 MiB line limit, the read
# buffers and the program, with room for a sanitizer's shadow memory and quarantine.
BIG_LINE_RSS_LIMIT = 80 << 20


def load_cases():
    cases = []
    with open(os.path.join(HERE, "cases.txt"), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = [x.strip() for x in line.rstrip("\n").split("|")]
            if len(fields) != 6:
                sys.exit(f"cases.txt:{number}: expected 6 fields, got {len(fields)}")
            name, source, options, code, message, counts = fields
            cases.append(dict(name=name, source=source, options=options, exit=int(code),
                              message=message,
                              counts=None if counts == "-" else tuple(map(int, counts.split()))))
    return cases


# ------------------------------------------------------------ generated inputs

def good_lines():
    with open(os.path.join(INPUTS, "good.jsonl"), "rb") as f:
        return f.read()


def zstd_bytes(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def generate(source, work):
    """Path of a generated input (None for stdin), and the bytes to feed on stdin."""
    name = source[1:]
    path = os.path.join(work, name)
    data = good_lines()
    if name == "directory":
        return INPUTS, None
    if name == "nul-directory":
        # a story, a file holding a NUL byte, then a copy of the story
        os.makedirs(path)
        story = b"The council approved the new budget for schools and roads on Monday evening.\n"
        for file, text in (("a.txt", story), ("b.txt", b"cut \0 short\n"), ("c.txt", story)):
            with open(os.path.join(path, file), "wb") as f:
                f.write(text)
        return path, None
    if name == "big-line":
        return None, "big-line"
    if name.startswith("gz-"):
        packed = bytearray(gzip.compress(data, mtime=0))
        if name == "gz-truncated":
            packed = packed[:-20]  # the trailer and the end of the last line
        elif name == "gz-corrupt":
            packed[30] ^= 0xFF
        elif name == "gz-bad-header":
            packed[3] = 0xFF  # reserved flag bits
    elif name.startswith("zst-"):
        lines = data.splitlines(keepends=True)
        # Two frames, so a cut in the second leaves the first readable.
        packed = bytearray(zstd_bytes(b"".join(lines[:2])) + zstd_bytes(b"".join(lines[2:])))
        if name == "zst-truncated":
            packed = packed[:-10]
        elif name == "zst-corrupt":
            packed[20] ^= 0xFF
        elif name == "zst-bad-header":
            packed[4] = 0xFF  # frame header descriptor: reserved bit set
    elif name == "million":
        with open(path, "w") as f:
            for i in range(1000000):
                # every 10th document repeats the text of the one before
                f.write('{"id":%d,"text":"tiny document %d"}\n' % (i, i - 1 if i % 10 == 9 else i))
        return path, None
    elif name == "distinct":
        with open(path, "w") as f:
            for i in range(2000):
                f.write('{"id":%d,"text":"story %d about %d things in %d places"}\n'
                        % (i, i, i * 7, i * 13))
        return path, None
    else:
        sys.exit(f"unknown generated input {source}")
    with open(path, "wb") as f:
        f.write(packed)
    return path, None


def feed_big_line(pipe):
    """Writes a 100 MB JSON line and a good line to pipe, in 1 MiB pieces."""
    try:
        pipe.write(b'{"id":"big","text":"')
        piece = b"x" * (1 << 20)
        left = BIG_LINE - len(b'{"id":"big","text":"') - len(b'"}')
        while left > 0:
            n = min(left, len(piece))
            pipe.write(piece[:n])
            left -= n
        pipe.write(b'"}\n{"id":"small","text":"a small document after the big one"}\n')
    except BrokenPipeError:
        pass  # copydesk stopped at the big line (--on-error fail)
    finally:
        try:
            pipe.close()
        except BrokenPipeError:
            pass


# ---------------------------------------------------------------------- runs

def mount_tmpfs(path):
    os.makedirs(path, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def run(copydesk, args, work, stdin_feed=None, stdout_path=None):
    """Runs copydesk; returns (exit code, stdout bytes, stderr text, peak RSS bytes)."""
    out_path = stdout_path or os.path.join(work, ".stdout")
    with open(out_path, "wb") as out, open(os.path.join(work, ".stderr"), "wb") as err:
        p = subprocess.Popen([copydesk] + args, cwd=INPUTS,
                             stdin=subprocess.PIPE if stdin_feed else subprocess.DEVNULL,
                             stdout=out, stderr=err)
        feeder = None
        if stdin_feed:
            feeder = threading.Thread(target=feed_big_line, args=(p.stdin,))
            feeder.start()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if feeder:
            feeder.join()
    stdout = b"" if stdout_path else open(out_path, "rb").read()
    stderr = open(os.path.join(work, ".stderr"), encoding="utf-8", errors="replace").read()
    return p.returncode, stdout, stderr, usage.ru_maxrss * 1024


def check_case(copydesk, case, work):
    """Returns a list of problems (empty when the case passes), or None when skipped."""
    problems = []
    for name in os.listdir(work):
        path = os.path.join(work, name)
        if os.path.isdir(path) and not os.path.ismount(path):
            shutil.rmtree(path)
        elif not os.path.isdir(path):
            os.unlink(path)
    with open(os.path.join(work, "previous"), "wb") as f:
        f.write(PREVIOUS)
    with open(os.path.join(work, "file"), "wb") as f:
        f.write(b"a regular file\n")

    source = case["source"]
    stdin_feed = None
    if source.startswith("@"):
        path, stdin_feed = generate(source, work)
        shown = "<stdin>" if path is None else (path if source != "@directory" else INPUTS)
    else:
        path = shown = source
    options = case["options"].replace("WORK", work)
    stdout_path = None
    if "> /dev/full" in options:
        options = options.replace("> /dev/full", "")
        stdout_path = "/dev/full"
    fullfs = None
    if "FULLFS" in options:
        fullfs = os.path.join(work, "fullfs")
        if not mount_tmpfs(fullfs):
            return None
        with open(os.path.join(fullfs, "out.jsonl"), "wb") as f:
            f.write(PREVIOUS)
        options = options.replace("FULLFS", fullfs)
    try:
        args = ["dedup", "--no-progress"] + options.split() + [path if path else "-"]
        code, stdout, stderr, rss = run(copydesk, args, work, stdin_feed, stdout_path)
        outputs = [a for a in options.split() if a.startswith(work)]
        problems += check_outputs(case, code, outputs, work)
    finally:
        if fullfs:
            subprocess.run(["umount", fullfs])

    message = case["message"].replace("INPUT", shown).replace("WORK", work)
    lines = [l[len("copydesk: "):] for l in stderr.splitlines() if l.startswith("copydesk: ")]
    if message.endswith("..."):
        found = any(l.startswith(message[:-3]) for l in lines)
    else:
        found = message in lines
    if code != case["exit"]:
        problems.append(f"exit {code}, expected {case['exit']}")
    if not found:
        problems.append(f"no line 'copydesk: {message}' on stderr")
    summary = [SUMMARY.match(l) for l in stderr.splitlines()]
    summary = [tuple(map(int, m.groups())) for m in summary if m]
    if case["counts"] is None:
        if summary:
            problems.append(f"a summary {summary[0]}, expected none")
    elif not summary:
        problems.append("no summary line")
    else:
        read, kept, removed, rejected = summary[0]
        if read != kept + removed + rejected:
            problems.append(f"read {read} != kept {kept} + removed {removed} + rejected {rejected}")
        if summary[0] != case["counts"]:
            problems.append(f"counts {summary[0]}, expected {case['counts']}")
        words = options.split()
        for flag, want in (("-o", kept), ("--removed", removed)):
            if flag in words and code == 0:
                with open(words[words.index(flag) + 1], "rb") as f:
                    lines_out = f.read().count(b"\n")
                if lines_out != want:
                    problems.append(f"{lines_out} lines in the {flag} file, expected {want}")
        stdout_lines = stdout.count(b"\n")
        if stdout_path is None and "-o" not in words and stdout_lines != kept:
            problems.append(f"{stdout_lines} lines on stdout, expected {kept}")
    if source == "@big-line" and rss > BIG_LINE_RSS_LIMIT:
        problems.append(f"peak RSS {rss >> 20} MiB while skipping a {BIG_LINE >> 20} MB line "
                        f"(limit {BIG_LINE_RSS_LIMIT >> 20} MiB)")
    if problems:
        problems.append("stderr was:\n    " + stderr.replace("\n", "\n    "))
    elif source == "@big-line":
        print(f"     {case['name']}: peak RSS {rss >> 20} MiB")
    return problems


def check_outputs(case, code, outputs, work):
    """A failed run leaves every output as it was; no temporary file is left."""
    problems = []
    for path in outputs:
        directory = os.path.dirname(path)
        if os.path.isdir(directory):
            left = [n for n in os.listdir(directory) if ".tmp." in n]
            if left:
                problems.append(f"temporary files left in {directory}: {left}")
        if code == 0:
            # written, with the mode open(2) would give a new file (not mkstemp's 0600)
            mask = os.umask(0)
            os.umask(mask)
            mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else None
            if mode != 0o666 & ~mask:
                problems.append(f"{path}: mode {mode and oct(mode)}, expected {oct(0o666 & ~mask)}")
            continue
        if path == os.path.join(work, "previous") or path.endswith("fullfs/out.jsonl"):
            with open(path, "rb") as f:
                if f.read() != PREVIOUS:
                    problems.append(f"{path} was changed by a failed run")
        elif os.path.exists(path):
            problems.append(f"{path} was written by a failed run")
    return problems


def check_special_outputs(copydesk, work):
    """-o at a path that is not a regular file: a FIFO and a character device
    (root only: mknod) are written directly and stay what they were; a symbolic
    link stays a link, and the file it points to gets the output; a directory
    is refused at once. Returns the problems (empty when all is well)."""
    problems = []
    scratch = os.path.join(work, "special")
    shutil.rmtree(scratch, ignore_errors=True)
    os.mkdir(scratch)
    good = ["dedup", "--no-progress", "--quiet"]
    kept = 2  # good.jsonl: 3 documents, one a copy

    fifo = os.path.join(scratch, "fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    code, _, stderr, _ = run(copydesk, good + ["-o", fifo, "good.jsonl"], work)
    reader.join(timeout=10)  # copydesk is done: what it wrote is in the pipe
    lines = got[0].count(b"\n") if got else None
    if code != 0 or lines != kept:
        problems.append(f"FIFO: exit {code}, read {lines} lines: {stderr}")
    if not stat.S_ISFIFO(os.lstat(fifo).st_mode):
        problems.append("FIFO: replaced by a regular file")

    if os.geteuid() == 0:
        device = os.path.join(scratch, "null")
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        code, _, stderr, _ = run(copydesk, good + ["-o", device, "good.jsonl"], work)
        if code != 0 or not stat.S_ISCHR(os.lstat(device).st_mode):
            problems.append(f"character device: exit {code}, now {oct(os.lstat(device).st_mode)}")

    target, link = os.path.join(scratch, "target.jsonl"), os.path.join(scratch, "link.jsonl")
    with open(target, "wb") as f:
        f.write(PREVIOUS)
    os.symlink(target, link)
    code, _, stderr, _ = run(copydesk, good + ["-o", link, "good.jsonl"], work)
    with open(target, "rb") as f:
        lines = f.read().count(b"\n")
    if code != 0 or not os.path.islink(link) or lines != kept:
        problems.append(f"symbolic link: exit {code}, link kept {os.path.islink(link)}, "
                        f"{lines} lines in its target: {stderr}")

    code, _, stderr, _ = run(copydesk, good + ["-o", scratch, "good.jsonl"], work)
    if code != 3 or f"copydesk: {scratch}: cannot write: Is a directory" not in stderr:
        problems.append(f"directory: exit {code}: {stderr}")
    if [n for n in os.listdir(scratch) if ".tmp." in n] or [n for n in os.listdir(work) if ".tmp." in n]:
        problems.append("temporary files left behind")
    return problems


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    copydesk = os.path.abspath(sys.argv[1])
    wanted = set(sys.argv[2:])
    cases = load_cases()
    # The full-disk case needs a tmpfs, so it lives here rather than in the table.
    cases.append(dict(name="disk_full", source="@distinct", options="-o FULLFS/out.jsonl",
                      exit=3, message="FULLFS/out.jsonl: write failed: No space left on device",
                      counts=None))
    failed = skipped = 0
    work = tempfile.mkdtemp(prefix="copydesk-bad-input-")
    try:
        for case in cases:
            if wanted and case["name"] not in wanted:
                continue
            if case["name"] == "disk_full":
                case["message"] = case["message"].replace("FULLFS", os.path.join(work, "fullfs"))
            started = time.monotonic()
            problems = check_case(copydesk, case, work)
            took = time.monotonic() - started
            if problems is None:
                skipped += 1
                print(f"skip {case['name']} (cannot mount a tmpfs: needs root)")
            elif problems:
                failed += 1
                print(f"FAIL {case['name']}:")
                for p in problems:
                    print("    " + p)
            else:
                print(f"ok   {case['name']} ({took:.1f}s)")
        problems = check_special_outputs(copydesk, work)
        if problems:
            failed += 1
            print("FAIL special_outputs:")
            for p in problems:
                print("    " + p)
        else:
            print("ok   special_outputs (a FIFO, a device, a symbolic link, a directory)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        sys.exit(f"{failed} bad-input case(s) failed")
    print(f"all bad-input cases passed ({skipped} skipped)")


if __name__ == "__main__":
    main()
