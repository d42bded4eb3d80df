"""The mutation score per module from `mutmut results --all true` (run by scripts/mutation)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

# "    kubectl_eckrc.links.x_split_address__mutmut_8: survived"; methods read "xǁClassǁname"
LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x[_ǁ].*__mutmut_\d+: (?P<status>.+)$")
DETECTED = ("killed", "timeout")


def main() -> int:
    results = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                             capture_output=True, text=True, check=True).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in results.splitlines():
        match = LINE.match(line)
        if match:
            by_module[match["module"]][match["status"].strip()] += 1
    print(f"{'module':36} {'mutants':>7} {'run':>5} {'killed':>6} {'survived':>8} {'other':>5} {'score':>6}")
    for module, counts in sorted(by_module.items()):
        ran = sum(n for status, n in counts.items() if status != "not checked")
        if not ran:
            print(f"{module:36} {sum(counts.values()):>7}  not run")
            continue
        killed = sum(counts[s] for s in DETECTED)
        other = ran - killed - counts["survived"]
        total = sum(counts.values())
        print(f"{module:36} {total:>7} {ran:>5} {killed:>6} {counts['survived']:>8} {other:>5} "
              f"{killed / ran:>6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
