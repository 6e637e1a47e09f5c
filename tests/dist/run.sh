#!/usr/bin/env bash
# The release artifacts in dist/ as a user meets them, away from the source
# tree (make test-dist, mk/dist.mk; issue 19):
#
#   - the wheel, installed into a fresh venv of every CPython >= 3.11 this
#     machine has: a DbmStore visit counter across two processes, and a Flask
#     app with spysession.flask when the tree has that module;
#   - the sdist, built by pip in a fresh venv from a copy outside the tree,
#     then the same visit counter;
#   - the C tarball, unpacked into a temporary prefix: a C visit counter
#     compiled through its spysession.pc, linked shared and static.
#
# Environment: ROOT (the source tree), DIST, VERSION, TRIPLE, TEST_CC (the C
# compiler of the C checks; default $CC, then cc); CARGO_TARGET_DIR (optional)
# lets the sdist build reuse compiled dependencies. The compiler comes as
# TEST_CC, not CC, so that the sdist's cargo build sees the environment the
# other builds of that target directory saw: a CC that differs makes cargo
# rebuild every crate that compiles C, here and again at the next build.
# Ends with "test-dist: N passed, M failed" and exits non-zero if M > 0.
set -uo pipefail

: "${ROOT:?}" "${DIST:?}" "${VERSION:?}" "${TRIPLE:?}"
CC=${TEST_CC:-${CC:-cc}}
here=$ROOT/tests/dist
work=$(mktemp -d "${TMPDIR:-/tmp}/spysession-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1 # never the source tree: imports must come from the venvs

passed=0
failed=0

# check NAME COMMAND...: runs COMMAND with its output in a log, shown on failure.
check() {
    local name=$1
    shift
    if "$@" >"$work/$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        echo "FAILED: $name"
        sed 's/^/    /' "$work/$name.log"
    fi
}

# counter NAME COMMAND...: COMMAND STORE VERSION [COOKIE] twice, two processes
# on one store directory; the second, given the first's cookie, must count 2.
counter() {
    local name=$1
    shift
    local store=$work/$name-store out cookie
    out=$("$@" "$store" "$VERSION") || return 1
    echo "first process: $out"
    grep -qx 'visits=1' <<<"$out" || { echo "first visit is not 1"; return 1; }
    cookie=$(sed -n 's/^cookie=//p' <<<"$out")
    [ -n "$cookie" ] || { echo "the first commit set no cookie"; return 1; }
    out=$("$@" "$store" "$VERSION" "$cookie") || return 1
    echo "second process: $out"
    grep -qx 'visits=2' <<<"$out" || { echo "the second process did not see the first visit"; return 1; }
}

# Every CPython >= 3.11 on PATH, in /usr/bin and /usr/local/bin and among
# pyenv's versions, once per interpreter (shims resolved through sys.executable).
find_pythons() {
    local dirs dir candidate exe
    IFS=: read -r -a dirs <<<"$PATH"
    dirs+=(/usr/bin /usr/local/bin "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin)
    for dir in "${dirs[@]}"; do for candidate in "$dir"/python3.*; do
        [[ $candidate =~ /python3\.[0-9]+$ && -x $candidate ]] || continue
        exe=$("$candidate" -c 'import sys; print(sys.executable if sys.implementation.name == "cpython" and sys.version_info >= (3, 11) else "")' 2>/dev/null) || continue
        [ -n "$exe" ] && readlink -f "$exe"
    done; done | awk '!seen[$0]++'
}

# fresh_venv DIR PYTHON: a new venv; Debian's own Pythons need pythonX.Y-venv.
fresh_venv() {
    "$2" -m venv "$1" && return 0
    case $2 in
    /usr/bin/python3.*)
        apt-get update -qq && apt-get install -y -qq "$(basename "$2")-venv" >/dev/null &&
            rm -rf "$1" && "$2" -m venv "$1"
        ;;
    *) return 1 ;;
    esac
}

wheel_on() {
    local py=$1 venv=$2
    fresh_venv "$venv" "$py" || return 1
    "$venv/bin/python" -m pip install --quiet --no-index "$wheel" || return 1
    counter "$(basename "$venv")" "$venv/bin/python" "$here/visits.py"
}

flask_on() {
    local venv=$1
    "$venv/bin/python" -m pip install --quiet "flask>=2,<4" || return 1
    "$venv/bin/python" "$here/flask_visits.py" "$work/$(basename "$venv")-flask-store"
}

sdist_build() {
    local venv=$work/venv-sdist
    mkdir -p "$work/sdist" && cp "$sdist" "$work/sdist/" || return 1
    fresh_venv "$venv" "$1" || return 1
    (cd "$work/sdist" && "$venv/bin/python" -m pip install --quiet --no-cache-dir "./$(basename "$sdist")") || return 1
    counter sdist "$venv/bin/python" "$here/visits.py"
}

c_tarball() {
    local prefix=$work/c-prefix
    mkdir -p "$prefix" && tar -xzf "$ctar" -C "$prefix" --strip-components=1 || return 1
    local f
    for f in include/spysession.h lib/libspysession.a lib/pkgconfig/spysession.pc README-C.md LICENSE-MIT LICENSE-APACHE; do
        [ -f "$prefix/$f" ] || { echo "the tarball has no $f"; return 1; }
    done
    ls "$prefix"/lib/libspysession.so* >/dev/null || { echo "the tarball has no shared library"; return 1; }
    export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
    [ "$(pkg-config --modversion spysession)" = "$VERSION" ] || { echo "spysession.pc is not $VERSION"; return 1; }
    # shellcheck disable=SC2046  # word splitting of pkg-config output is wanted
    "$CC" -std=c11 -Wall -Wextra -Werror -o "$work/visits-shared" "$here/visits.c" \
        $(pkg-config --cflags --libs spysession) -Wl,-rpath,"$prefix/lib" || return 1
    ldd "$work/visits-shared" | grep -F "$prefix/lib/libspysession.so" || { echo "not linked to the tarball's library"; return 1; }
    counter c-shared "$work/visits-shared" || return 1
    # shellcheck disable=SC2046
    "$CC" -std=c11 -Wall -Wextra -Werror -o "$work/visits-static" "$here/visits.c" \
        $(pkg-config --cflags spysession) "$prefix/lib/libspysession.a" \
        $(pkg-config --static --libs-only-l spysession | sed 's/-lspysession//') || return 1
    counter c-static "$work/visits-static"
}

shopt -s nullglob
wheels=("$DIST"/spysession-"$VERSION"-cp311-abi3-*.whl)
shopt -u nullglob
[ ${#wheels[@]} -eq 1 ] || { echo "test-dist: expected one wheel in $DIST, found ${#wheels[@]}"; exit 1; }
wheel=${wheels[0]}
sdist=$DIST/spysession-$VERSION.tar.gz
ctar=$DIST/spysession-$VERSION-$TRIPLE.tar.gz

mapfile -t pythons < <(find_pythons)
[ ${#pythons[@]} -gt 0 ] || { echo "test-dist: no CPython >= 3.11 found"; exit 1; }
echo "test-dist: CPythons >= 3.11 found:"
for py in "${pythons[@]}"; do echo "    $py ($("$py" -c 'import platform; print(platform.python_version())'))"; done

have_flask=$([ -f "$ROOT/python/spysession/flask.py" ] && echo yes)
[ -n "$have_flask" ] || echo "test-dist: note: python/spysession/flask.py is not in the tree yet; the Flask drop-in check is skipped"
for py in "${pythons[@]}"; do
    tag=$("$py" -c 'import platform; print(platform.python_version())')
    venv=$work/venv-$tag
    [ -e "$venv" ] && tag=$tag-b && venv=$work/venv-$tag # the same version twice
    check "wheel.$tag" wheel_on "$py" "$venv"
    [ -n "$have_flask" ] && [ -x "$venv/bin/python" ] && check "flask.$tag" flask_on "$venv"
done
check sdist sdist_build "${pythons[0]}"
check c-tarball c_tarball

echo "test-dist: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
