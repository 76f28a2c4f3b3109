#!/usr/bin/env bash
# Puts a newsletter's data from commit SHA into this checkout, as data only
# (docs/design.md, "Trust boundary"): the tool, its packages, bin/, scripts and
# workflows stay those of the checkout (the default branch); only the
# newsletter folder and recipients/ come from SHA, as blobs. No symlink or
# submodule is written: a pull request's symlink could point the tool at any
# file of the runner.
#
#   scripts/take-content.sh SHA [newsletters/<id>]
#
# The commit is fetched when this checkout lacks it, with GH_TOKEN in a
# one-off header (never written to .git/config).
set -euo pipefail
sha="${1:?usage: take-content.sh SHA [newsletters/<id>]}"
dir="${2:-}"
if ! [[ "$sha" =~ ^[0-9a-f]{40}$ ]]; then
  echo "::error::take-content: not a commit SHA: ${sha}"
  exit 1
fi
if [[ -n "$dir" ]] && ! [[ "$dir" =~ ^newsletters/[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*$ ]]; then
  echo "::error::take-content: not a newsletter folder: ${dir}"
  exit 1
fi
if ! git cat-file -e "${sha}^{commit}" 2>/dev/null; then
  auth=()
  if [[ -n "${GH_TOKEN:-}" ]]; then
    basic=$(printf 'x-access-token:%s' "$GH_TOKEN" | base64 -w0)
    echo "::add-mask::${basic}"
    auth=(-c "http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader=AUTHORIZATION: basic ${basic}")
  fi
  git "${auth[@]}" fetch --no-tags --no-recurse-submodules --depth=1 origin "$sha"
fi
paths=(recipients)
if [[ -n "$dir" ]]; then paths+=("$dir"); fi
# Regular files only (mode 100644 or 100755).
odd=$(git ls-tree -r "$sha" -- "${paths[@]}" | awk '$1 != "100644" && $1 != "100755" { print $4 }')
if [[ -n "$odd" ]]; then
  printf 'not a regular file: %q\n' $odd
  echo "::error title=Not a regular file::The newsletter's data holds symlinks or submodules (listed in the log); only regular files are read."
  exit 1
fi
rm -rf -- "${paths[@]}"
if [[ -n "$(git ls-tree "$sha" -- "${paths[@]}")" ]]; then
  git checkout "$sha" -- $(git ls-tree --name-only "$sha" -- "${paths[@]}")
fi
echo "Data from ${sha}: ${paths[*]}"
