#!/usr/bin/env bash
# Builds the demo corpus: source files of named Debian 12 packages, per language, deduplicated,
# balanced, split into train / held-out with a fixed seed. See data/corpus/README.md.
#
#   data/corpus/build.sh [OUT]          (from anywhere; OUT defaults to corpus/ at the repository root)
#
# The packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x` into OUT/.cache:
# nothing is installed from them, so their dependencies (a JDK, a PostgreSQL server, Debian's nodejs)
# are never pulled in and the machine is left as it was. Only the tools the script runs are installed
# when missing (python3, man-db and groff-base for the prose set), with apt-get as root.
# Environment: CORPUS_SEED (default 1234), CORPUS_TRAIN_BYTES (per language, default 3000000),
# CORPUS_HELDOUT_BYTES (per language, default 300000), SAMPLES (default data/samples; "" = none).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/corpus}
SAMPLES=${SAMPLES-$ROOT/data/samples}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/.cache

# ---- the packages, by language (Debian 12 "bookworm" names) ----
PKG_python="libpython3.11-minimal libpython3.11-stdlib"
PKG_c="libc6-dev linux-libc-dev libstb-dev zlib1g-dev libsqlite3-dev libcurl4-openssl-dev libuv1-dev libssl-dev"
PKG_cpp="libstdc++-12-dev nlohmann-json3-dev libfmt-dev libspdlog-dev libcli11-dev libgtest-dev libglm-dev libeigen3-dev"
PKG_go="golang-1.19-src"
PKG_java="openjdk-17-source"
PKG_javascript="node-acorn node-esprima node-underscore node-commander node-semver node-yargs node-lodash
  node-express node-glob node-minimatch node-uglify-js node-terser node-marked node-js-yaml node-ajv
  node-react node-chalk node-debug"
PKG_typescript="node-typescript ts-jest node-typestyle node-mj-context-menu node-ts-loader
  node-rollup-plugin-typescript2 node-gulp-tsb node-sinclair-typebox node-csstype"
PKG_rust="librust-regex-dev librust-regex-syntax-dev librust-serde-dev librust-serde-json-dev librust-syn-dev
  librust-tokio-dev librust-nom-dev librust-futures-util-dev librust-bytes-dev librust-anyhow-dev
  librust-indexmap-dev librust-proc-macro2-dev librust-quote-dev librust-log-dev librust-rayon-dev
  librust-rayon-core-dev librust-crossbeam-channel-dev librust-hyper-dev librust-clap-dev
  librust-itertools-dev librust-memchr-dev librust-hashbrown-dev librust-rand-dev librust-toml-dev"
PKG_ruby="libruby3.1 rake ruby-rack ruby-sinatra ruby-thor ruby-rspec-core ruby-activesupport"
PKG_php="php-symfony-console php-symfony-yaml php-symfony-finder php-symfony-process
  php-symfony-dependency-injection php-symfony-http-kernel php-symfony-http-foundation php-symfony-routing
  php-symfony-cache php-symfony-serializer php-symfony-string php-symfony-var-dumper
  php-symfony-event-dispatcher php-symfony-validator php-twig php-monolog php-league-commonmark
  php-guzzlehttp-psr7 php-composer-semver php-doctrine-dbal php-doctrine-orm php-phpseclib3
  php-ramsey-uuid php-slim phpunit php-psr-log php-nikic-fast-route"
PKG_bash="bash-completion initramfs-tools-core debootstrap live-build shunit2 neofetch ucf bats dh-make
  lynis rkhunter xdg-utils byobu dracut-core os-prober libtool tlp pbuilder"
PKG_sql="postgresql-15-pgtap postgresql-15-pgrouting-scripts postgresql-15-postgis-3-scripts
  postgresql-15-partman postgresql-15-periods postgresql-15-orafce postgresql-15-pgq3"
PKG_english="manpages debian-reference-en debian-faq"
LANGS="python c cpp go java javascript typescript rust ruby php bash sql english"

# ---- tools ----
need_tools=()
[ -x /usr/bin/python3 ] || need_tools+=(python3)
command -v man >/dev/null 2>&1 || need_tools+=(man-db)
command -v groff >/dev/null 2>&1 || need_tools+=(groff-base)
command -v col >/dev/null 2>&1 || need_tools+=(bsdextrautils)
if [ ${#need_tools[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "build.sh: missing ${need_tools[*]}: run as root or install them" >&2; exit 1; }
    echo "build.sh: installing ${need_tools[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_tools[@]}" >/dev/null
fi

# ---- download and unpack (cached: a package is fetched once per version) ----
mkdir -p "$CACHE/debs" "$CACHE/root"
all_pkgs=()
for lang in $LANGS; do
    var=PKG_$lang
    for p in ${!var}; do all_pkgs+=("$p"); done
done
if ! apt-cache show "${all_pkgs[0]}" >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { echo "build.sh: apt has no package lists: run 'apt-get update' as root" >&2; exit 1; }
    apt-get update -qq
fi
: > "$CACHE/packages.tsv.tmp"
n=0
for p in "${all_pkgs[@]}"; do
    n=$((n + 1))
    ver=$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
    if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
        echo "build.sh: package $p has no candidate version (not in Debian 12?)" >&2
        exit 1
    fi
    deb=$(ls "$CACHE/debs/${p}_"*.deb 2>/dev/null | head -n 1 || true)
    want="${p}_$(echo "$ver" | sed 's/^[0-9]*://; s/:/%3a/g')_"
    if [ -z "$deb" ] || [[ "$(basename "$deb")" != "$want"* ]]; then
        rm -f "$CACHE/debs/${p}_"*.deb
        printf 'build.sh: [%d/%d] downloading %s %s\n' "$n" "${#all_pkgs[@]}" "$p" "$ver" >&2
        (cd "$CACHE/debs" && apt-get download -q "$p=$ver" >/dev/null 2>"$CACHE/apt.err") ||
            { cat "$CACHE/apt.err" >&2; exit 1; }
        deb=$(ls "$CACHE/debs/${p}_"*.deb | head -n 1)
        rm -rf "$CACHE/root/$p"
    fi
    if [ ! -f "$CACHE/root/$p/.unpacked" ]; then
        rm -rf "$CACHE/root/$p"
        mkdir -p "$CACHE/root/$p"
        dpkg-deb -x "$deb" "$CACHE/root/$p"
        touch "$CACHE/root/$p/.unpacked"
    fi
    printf '%s\t%s\t%s\n' "$p" "$ver" "$(sha256sum "$deb" | cut -d' ' -f1)" >> "$CACHE/packages.tsv.tmp"
done
mv "$CACHE/packages.tsv.tmp" "$CACHE/packages.tsv"

# ---- select, filter, split (the Python helper) ----
langspec=$(for lang in $LANGS; do var=PKG_$lang; echo "$lang" ${!var}; done)
nice -n 10 /usr/bin/python3 "$ROOT/data/corpus/select.py" --cache "$CACHE" --out "$OUT" \
    --samples "$SAMPLES" --seed "${CORPUS_SEED:-1234}" \
    --train-bytes "${CORPUS_TRAIN_BYTES:-3000000}" --heldout-bytes "${CORPUS_HELDOUT_BYTES:-300000}" \
    --langs <(printf '%s\n' "$langspec")

# the corpus is rebuilt, never committed
if [ "$OUT" = "$ROOT/corpus" ] && ! grep -qx '/corpus/' "$ROOT/.gitignore" 2>/dev/null; then
    echo "build.sh: note: add /corpus/ to .gitignore" >&2
fi
