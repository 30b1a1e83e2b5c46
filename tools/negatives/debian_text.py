#!/usr/bin/env python3
"""Real benign multilingual text from Debian packages, as a second held-aside
check for tools/ag_train (never trained on: training on it cost ~6 points of
out-of-fold recall on multilingual injections).

Needs: fortunes-de fortunes-es fortunes-it fortunes-ru manpages-fr manpages-de
manpages-es manpages-it manpages-pt-br manpages-ru manpages-zh manpages-ja
(and man-db).  Missing packages are skipped.  Writes "LANG<TAB>text" lines,
250 per source and language (chosen by hash, so the output is deterministic
for given package versions); LANG ends in F (fortune) or M (manual page):

    tools/negatives/debian_text.py > /tmp/debian.txt
    tools/ag_train ../shared/corpus /tmp/x.model --folds 5 --sanity /tmp/debian.txt
"""
import glob
import hashlib
import os
import re
import subprocess
import sys

CAP = 250


def emit(lang, texts):
    texts = sorted({t for t in texts if 20 <= len(t) <= 400},
                   key=lambda t: hashlib.sha256(t.encode()).hexdigest())[:CAP]
    for t in texts:
        print(f"{lang}\t{t}")
    print(f"{lang}: {len(texts)}", file=sys.stderr)


for lang in ["de", "es", "it", "ru"]:
    d = f"/usr/share/games/fortunes/{lang}"
    files = glob.glob(d + "/*.u8") or \
        [f for f in glob.glob(d + "/*") if not f.endswith(".dat")]
    texts = []
    for f in sorted(files):
        try:
            s = open(f, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError):
            continue
        texts += [" ".join(p.split()) for p in s.split("\n%\n")]
    emit(lang + "F", texts)

for lang, d in [("fr", "fr"), ("de", "de"), ("es", "es"), ("it", "it"),
                ("pt", "pt_BR"), ("ru", "ru"), ("zh", "zh_CN"), ("ja", "ja")]:
    files = sorted(glob.glob(f"/usr/share/man/{d}/man1/*.gz"),
                   key=lambda f: hashlib.sha256(f.encode()).hexdigest())[:60]
    texts = []
    for f in files:
        try:
            s = subprocess.run(["man", "-l", f], capture_output=True, text=True,
                               env=dict(os.environ, MANWIDTH="2000"),
                               timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        s = re.sub(r".\x08", "", s)
        texts += [ln.strip() for ln in s.split("\n")
                  if len(ln.strip()) > 40 and not ln.strip().startswith("-")]
    emit(lang + "M", texts)
