#!/usr/bin/env bash
# Enforce docs/architecture.md's include rules: common/ knows nothing of
# Atrium; the doors (s3/, fuse/), the daemon and tools/ never include
# private core headers (*_int.h) from src/; the core includes no door, no
# daemon code, no civetweb and no libfuse; only daemon/main.c knows the
# doors; tools/ includes common/ only.
set -u
cd "$(dirname "$0")/.."
bad=0
complain() { echo "check-layers: $1"; bad=1; }
while IFS= read -r hit; do complain "common/ includes Atrium code: $hit"; done \
  < <(grep -nE '#include +"(src|s3|fuse|daemon|tools)/' common/*.[ch] 2>/dev/null)
while IFS= read -r hit; do complain "front end includes a private core header: $hit"; done \
  < <(grep -nE '#include +"src/[a-z_0-9]+_int\.h"' s3/*.[ch] fuse/*.[ch] daemon/*.[ch] \
        tools/*.[ch] 2>/dev/null)
while IFS= read -r hit; do complain "core includes a door or the daemon: $hit"; done \
  < <(grep -nE '#include +"(s3|fuse|daemon|tools)/' src/*.[ch] 2>/dev/null)
# HTTP lives with the doors and FUSE with the mount's: the core formats no
# request and calls no libfuse.
while IFS= read -r hit; do complain "core includes civetweb or libfuse: $hit"; done \
  < <(grep -nE '#include +[<"](civetweb\.h|fuse[a-z_0-9]*\.h|fuse3/)' src/*.[ch] 2>/dev/null)
# Only the daemon's entry knows every door.
while IFS= read -r hit; do complain "only daemon/main.c includes the doors: $hit"; done \
  < <(grep -nE '#include +"(s3|fuse)/' daemon/*.[ch] 2>/dev/null | grep -v '^daemon/main\.c:')
while IFS= read -r hit; do complain "a door includes the daemon: $hit"; done \
  < <(grep -nE '#include +"daemon/' s3/*.[ch] fuse/*.[ch] 2>/dev/null)
# The CLI and the tools talk HTTP: common/ and their own headers only
# (the CLI links libcommon.a).
while IFS= read -r hit; do complain "tools/ includes more than common/: $hit"; done \
  < <(grep -nE '#include +"(src|s3|fuse|daemon)/' tools/*.[ch] 2>/dev/null)
while IFS= read -r hit; do complain "front end includes another front end: $hit"; done \
  < <(grep -nE '#include +"fuse/' s3/*.[ch] 2>/dev/null; grep -nE '#include +"s3/' fuse/*.[ch] 2>/dev/null)
# The metadata store's shared header (statement ids, the statement runner)
# is for its own files: the rest of the core goes through meta_int.h.
while IFS= read -r hit; do complain "meta_db_int.h outside the metadata store: $hit"; done \
  < <(grep -nE '#include +"src/meta_db_int\.h"' src/*.[ch] s3/*.[ch] fuse/*.[ch] tools/*.[ch] \
        tests/*/*.[ch] 2>/dev/null | grep -vE '^src/meta_[a-z]+\.c:')
# Every struct that owns memory (hdrs) and is released on an error path is
# initialised where it is declared: an early "goto out" must never release
# stack garbage (docs/architecture.md, "Rules checked by make").
while IFS= read -r hit; do complain "owning struct declared without an initialiser: $hit"; done \
  < <(awk '/^(static )?struct [a-z_0-9]+ \{/ { inside = 1 } /^\};/ { inside = 0 }
           !inside && /^[ \t]+struct (meta_row|atr_obj|meta_mpu|atr_entry) [a-z_0-9, ]+(\[[0-9A-Z_ +]*\])?;/ {
             print FILENAME ":" FNR ": " $0 }' src/*.c s3/*.c fuse/*.c daemon/*.c)
# Every source file includes common/banned.h after everything else, so a
# banned function (strcpy, sprintf, atoi, gmtime...) does not compile.
for f in common/*.c src/*.c s3/*.c fuse/*.c daemon/*.c tools/*.c; do
	last=$(grep -E '^#include ' "$f" | tail -n 1)
	[ "$last" = '#include "common/banned.h"' ] ||
		complain "$f: does not include common/banned.h last"
done
[ $bad -eq 0 ] && echo "check-layers: ok"
exit $bad
