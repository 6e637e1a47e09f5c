#!/usr/bin/env bash
# Builds every tests/c/test_*.c against the public header only, linked once
# against the shared and once against the static library, runs each under
# valgrind, and (when INSTALLED is set) builds one test through pkg-config
# against an installed prefix. Prints "C tests: N passed, M failed" and
# exits non-zero on any failure. Called by `make test-c` (mk/c.mk).
#
# Environment: LIBDIR (where cargo put libspysession.{so,a}), OUT (build
# directory), INSTALLED (an install prefix, optional), VERSION (Cargo.toml's
# version, from mk/c.mk: the installed file names and the header's macros
# are checked against it), CC.
set -u
cd "$(dirname "$0")/../.."
: "${LIBDIR:?LIBDIR must name the directory holding libspysession.so and .a}"
OUT=${OUT:-build/c}
CC=${CC:-cc}
CFLAGS=(-Wall -Wextra -Werror -std=c11 -g -pthread)
STATIC_LIBS=(-lpthread -ldl -lm -lrt -lutil)
VALGRIND=(valgrind --error-exitcode=1 --leak-check=full
          --errors-for-leak-kinds=definite --quiet
          --suppressions=tests/c/valgrind.supp)
mkdir -p "$OUT"

passed=0
failed=0
failures=()

# run NAME COMMAND...: runs one test program, counts it.
run() {
    local name=$1; shift
    local log="$OUT/$name.log"
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS $name"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAIL $name (log: $log)"
        sed 's/^/    /' "$log" | tail -n 40
    fi
}

# build NAME COMMAND...: compiles; a compile error is a failed test.
build() {
    local name=$1; shift
    if ! "$@" 2>"$OUT/$name.build.log"; then
        failed=$((failed + 1))
        failures+=("$name (build)")
        echo "FAIL $name: does not compile"
        sed 's/^/    /' "$OUT/$name.build.log"
        return 1
    fi
}

for src in tests/c/test_*.c; do
    name=$(basename "$src" .c)
    if build "$name.shared" "$CC" "${CFLAGS[@]}" -Iinclude -o "$OUT/$name.shared" "$src" \
            -L"$LIBDIR" -lspysession -Wl,-rpath,"$LIBDIR"; then
        run "$name.shared" "${VALGRIND[@]}" "$OUT/$name.shared"
    fi
    if build "$name.static" "$CC" "${CFLAGS[@]}" -Iinclude -o "$OUT/$name.static" "$src" \
            "$LIBDIR/libspysession.a" "${STATIC_LIBS[@]}"; then
        run "$name.static" "${VALGRIND[@]}" "$OUT/$name.static"
    fi
done

if [ -n "${INSTALLED:-}" ]; then
    : "${VERSION:?VERSION, the version in Cargo.toml, is needed with INSTALLED}"
    lib=$INSTALLED/lib
    soname=libspysession.so.${VERSION%%.*}
    # The files a packager expects: the real file under its full version,
    # the SONAME link programs load, the development link -lspysession finds.
    run installed.files bash -c '
        set -eu
        [ -f "$1/libspysession.so.$2" ] && [ ! -L "$1/libspysession.so.$2" ]
        [ "$(readlink "$1/$3")" = "libspysession.so.$2" ]
        [ "$(readlink "$1/libspysession.so")" = "$3" ]
        [ -f "$1/libspysession.a" ] && [ -f "$1/pkgconfig/spysession.pc" ]
    ' _ "$lib" "$VERSION" "$soname"
    run installed.soname bash -c '
        readelf -d "$1" | grep -F "Library soname: [$2]"' _ "$lib/libspysession.so.$VERSION" "$soname"
    # Stripped: no symbol table, no debug info (the dynamic symbols stay;
    # .debug_gdb_scripts is a loaded section, not debug info).
    run installed.stripped bash -c '
        if readelf -S "$1" | grep -E "\.(symtab|debug_(info|line|str|abbrev))"; then exit 1; fi
        if readelf -S "$2" | grep -E "\.debug_(info|line|str|abbrev)"; then exit 1; fi' _ "$lib/libspysession.so.$VERSION" "$lib/libspysession.a"
    # Exactly the functions the header declares are exported, nothing else.
    run installed.exports bash -c '
        set -eu
        nm -D --defined-only "$1" | awk "{print \$3}" | sed "s/@.*//" | sort -u >"$3/exported"
        grep -oE "\bsps_[a-z0-9_]+\(" "$2" | tr -d "(" | sort -u >"$3/declared"
        if grep -v "^sps_" "$3/exported"; then echo "exported beyond sps_*"; exit 1; fi
        diff "$3/declared" "$3/exported"
        echo "$(wc -l <"$3/exported") symbols, all sps_*"
    ' _ "$lib/libspysession.so.$VERSION" include/spysession.h "$OUT"
    run installed.pkg-config-version bash -c '
        [ "$(PKG_CONFIG_PATH="$1" pkg-config --modversion spysession)" = "$2" ]' _ "$lib/pkgconfig" "$VERSION"

    # What a user does: cc app.c $(pkg-config --cflags --libs spysession).
    export PKG_CONFIG_PATH="$lib/pkgconfig"
    name=installed.pkg-config
    # shellcheck disable=SC2046  # word splitting of pkg-config output is wanted
    if build "$name" "$CC" "${CFLAGS[@]}" -o "$OUT/$name" tests/c/test_visits.c \
            $(pkg-config --cflags --libs spysession); then
        # Linked by SONAME (what survives an upgrade), not by the dev link.
        run "$name.needed" bash -c 'readelf -d "$1" | grep -F "Shared library: [$2]"' _ \
            "$OUT/$name" "$soname"
        run "$name" env LD_LIBRARY_PATH="$lib" "$OUT/$name"
    fi
    # Static: `pkg-config --static --libs` gives -lspysession and its
    # Libs.private; -Bstatic around it makes the linker take the .a.
    name=installed.pkg-config-static
    # shellcheck disable=SC2046
    if build "$name" "$CC" "${CFLAGS[@]}" -o "$OUT/$name" tests/c/test_visits.c \
            $(pkg-config --cflags spysession) $(pkg-config --static --libs-only-L spysession) \
            -Wl,-Bstatic -lspysession -Wl,-Bdynamic \
            $(pkg-config --static --libs-only-l spysession | sed 's/-lspysession//'); then
        run "$name.needed" bash -c '! readelf -d "$1" | grep -F libspysession' _ "$OUT/$name"
        run "$name" "$OUT/$name"
    fi
    # The header's version macros against Cargo.toml's version.
    name=installed.version
    if build "$name" "$CC" "${CFLAGS[@]}" -o "$OUT/$name" tests/c/installed_version.c \
            $(pkg-config --cflags --libs spysession); then
        run "$name" env LD_LIBRARY_PATH="$lib" SPS_EXPECT_VERSION="$VERSION" "$OUT/$name"
    fi
fi

if [ -n "${VISITS:-}" ]; then
    # The CGI example: three requests carrying the cookie count 0, 1, 2.
    name=example.visits
    run "$name" bash -c '
        set -eu
        export SPYSESSION_STORE=$(mktemp -d)/store
        trap "rm -rf \"$(dirname "$SPYSESSION_STORE")\"" EXIT
        out=$("$0")
        printf "%s\n" "$out" | grep -qx "Content-Type: text/plain"
        printf "%s\n" "$out" | tail -n 1 | grep -qx "C sees visited=0, now 1"
        cookie=$(printf "%s\n" "$out" | sed -n "s/^Set-Cookie: \([^;]*\);.*/\1/p")
        [ -n "$cookie" ]
        HTTP_COOKIE="$cookie" PATH_INFO=/page "$0" | tail -n 1 | grep -qx "C sees visited=1, now 2"
        HTTP_COOKIE="$cookie" "$0" | tail -n 1 | grep -qx "C sees visited=2, now 3"
        "$0" | tail -n 1 | grep -qx "C sees visited=0, now 1"
    ' "$VISITS"
fi

echo "C tests: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    printf '  failed: %s\n' "${failures[@]}"
    exit 1
fi
