#!/usr/bin/env bash
# Enforce docs/architecture.md's include rules: common/ knows nothing of
# Atrium; front ends (s3/, fuse/) and tools/ never include private core
# headers (*_int.h) from src/; the core never includes a front end.
set -u
cd "$(dirname "$0")/.."
bad=0
complain() { echo "check-layers: $1"; bad=1; }
while IFS= read -r hit; do complain "common/ includes Atrium code: $hit"; done \
  < <(grep -nE '#include +"(src|s3|fuse|tools)/' common/*.[ch] 2>/dev/null)
while IFS= read -r hit; do complain "front end includes a private core header: $hit"; done \
  < <(grep -nE '#include +"src/[a-z_0-9]+_int\.h"' s3/*.[ch] fuse/*.[ch] tools/*.[ch] 2>/dev/null)
while IFS= read -r hit; do complain "core includes a front end: $hit"; done \
  < <(grep -nE '#include +"(s3|fuse)/' src/*.[ch] 2>/dev/null | grep -v '^src/main\.c:')
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
             print FILENAME ":" FNR ": " $0 }' src/*.c s3/*.c fuse/*.c)
# Every source file includes common/banned.h after everything else, so a
# banned function (strcpy, sprintf, atoi, gmtime...) does not compile.
for f in common/*.c src/*.c s3/*.c fuse/*.c tools/*.c; do
	last=$(grep -E '^#include ' "$f" | tail -n 1)
	[ "$last" = '#include "common/banned.h"' ] ||
		complain "$f: does not include common/banned.h last"
done
[ $bad -eq 0 ] && echo "check-layers: ok"
exit $bad
