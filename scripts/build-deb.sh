#!/usr/bin/env bash
# Build the Debian package of Steer (binary only, unsigned) from the files of this checkout
# that git tracks or would track (what a build in the tree compiles, without build
# folders, databases or tokens, which .gitignore names): they are copied into a temporary folder
# with scripts/debian/ as debian/, dpkg-buildpackage -us -uc -b runs there, and the .deb
# is left in OUTDIR (default: the current folder).
#   scripts/build-deb.sh [OUTDIR]
# DEB_BUILD_OPTIONS defaults to "nocheck noddebs parallel=<CPUs>".
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-.}
if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	echo "build-deb: $src is not a git checkout (the file list comes from git ls-files)" >&2
	exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# the package version's upstream part must be the project's
deb_version=$(dpkg-parsechangelog -l "$src/scripts/debian/changelog" -S Version)
cmake_version=$(sed -n 's/^project(steer VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
if [ "${deb_version%-*}" != "$cmake_version" ]; then
	echo "build-deb: scripts/debian/changelog is at $deb_version, CMakeLists.txt at" \
		"$cmake_version: add a changelog entry" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/steer-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/steer-$cmake_version
mkdir -p "$tree"
# a file deleted in the working tree but not yet in git is left out
git -C "$src" ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
	[ -e "$src/$f" ] && printf '%s\0' "$f"
done | tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf -
rm -rf "$tree/debian"
cp -r "$src/scripts/debian" "$tree/debian"

export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-"nocheck noddebs parallel=$(nproc)"}
(cd "$tree" && dpkg-buildpackage -us -uc -b)

shopt -s nullglob
debs=("$work"/*.deb)
if [ ${#debs[@]} -eq 0 ]; then
	echo "build-deb: dpkg-buildpackage made no .deb" >&2
	exit 1
fi
cp "${debs[@]}" "$out/"
for d in "${debs[@]}"; do
	echo "build-deb: $out/$(basename "$d")"
done
