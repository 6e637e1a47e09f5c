#!/usr/bin/env bash
# Builds every tests/c/test_*.c against the public header only, linked once
# against the shared and once against the static library, runs each under
# valgrind, and (when INSTALLED is set) builds one test through pkg-config
# against an installed prefix. Prints "C tests: N passed, M failed" and
# exits non-zero on any failure. Called by `make test-c` (mk/c.mk).
#
# Environment: LIBDIR (where cargo put libspysession.{so,a}), OUT (build
# directory), INSTALLED (an install prefix, optional), CC.
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
    # What a user does: cc app.c $(pkg-config --cflags --libs spysession).
    export PKG_CONFIG_PATH="$INSTALLED/lib/pkgconfig"
    name=installed.pkg-config
    # shellcheck disable=SC2046  # word splitting of pkg-config output is wanted
    if build "$name" "$CC" "${CFLAGS[@]}" -o "$OUT/$name" tests/c/test_visits.c \
            $(pkg-config --cflags --libs spysession); then
        run "$name" env LD_LIBRARY_PATH="$INSTALLED/lib" "$OUT/$name"
    fi
    name=installed.pkg-config-static
    # shellcheck disable=SC2046
    if build "$name" "$CC" "${CFLAGS[@]}" -o "$OUT/$name" tests/c/test_visits.c \
            $(pkg-config --cflags spysession) "$INSTALLED/lib/libspysession.a" \
            $(pkg-config --static --libs-only-l spysession | sed 's/-lspysession//'); then
        run "$name" "$OUT/$name"
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
