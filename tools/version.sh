#!/bin/sh
# The version both binaries report (--version, the admin report, metrics):
# `git describe` of a release tag (v1.2.3 -> 1.2.3), else VERSION plus the
# commit (0.1.0-g3d25a30, -dirty with uncommitted changes), else VERSION
# alone (a tarball without .git).
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION 2>/dev/null || echo 0.0.0)
if d=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "${d#v}"
elif h=$(git describe --always --dirty 2>/dev/null); then
	echo "$base-g$h"
else
	echo "$base"
fi
