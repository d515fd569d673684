#!/bin/sh
# coldstart-md.sh DIR: the README's cold-start section from the output of
# `fcstart bench coldstart --out DIR`: the date, the command, the tiers' limits
# as measured, and a table of medians (ms to the first byte) per tier,
# scenario and path. Uses jq.
set -eu
j=${1:?usage: coldstart-md.sh DIR}/coldstart.json
jq -r '
  def ms: if . >= 1000 then ((. / 10 | round) / 100 | tostring) + " s"
          elif . >= 100 then (round | tostring)
          else ((. * 10 | round) / 10 | tostring) end;
  (.paths | map(select(.available)) | map(.name)) as $p
  | ([.tiers[].name]) as $tn | .scenarios as $sn
  | "Measured \(.time) on this machine with `\(.command)` (\(.rounds) rounds, image of \(.image_bytes / 1e5 | round / 10) MB)."
  , ""
  , (.tiers[] | "- \(.name): " + (if .built | not then "could not be built: \(.error)"
                                 elif .note then .note else "no limits" end))
  , (.paths[] | select(.available | not) | "- \(.name): \(.error)")
  , ""
  , "Median ms from the start of the path (import for uncached) to the container'"'"'s first byte of output:"
  , ""
  , "| tier | scenario | " + ($p | join(" | ")) + " |"
  , "| --- | --- | " + ($p | map("---:") | join(" | ")) + " |"
  , ( .results | group_by(.tier + "/" + .scenario)
      | sort_by(.[0] as $f | [($tn | index($f.tier)), ($sn | index($f.scenario))])
      | .[] as $g
      | "| \($g[0].tier) | \($g[0].scenario) | "
        + ($p | map(. as $n | ($g | map(select(.path == $n))[0]) as $c
             | if $c == null then "" elif ($c.ok and $c.n > 0) then ($c.phases_ms.total.median | ms)
               else "failed" end) | join(" | ")) + " |")
' "$j"
