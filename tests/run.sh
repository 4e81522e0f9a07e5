#!/usr/bin/env bash
# The project's test command (README, .ci/run): builds the solution, runs every test project
# (slow ones included), and ends with the plain line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d)"
# TorchSharp 0.107 frees a native object from its finalizer even while libtorch still reads it, when the
# managed wrapper was a temporary (an operator's implicit Scalar; TorchSharp PR #1434). A collection in
# that instant is rare, but a test host crashed once here while training, most likely so. A 64 MiB gen0
# budget makes collections, and so that race, rarer in the test hosts and the workers they start (an
# allocation loop here: 841 gen0 collections by default, 26 with it).
export DOTNET_GCgen0size=0x4000000
# The tests use a real RabbitMQ and a real Azurite: install and start them (loopback only), and stop
# afterwards whatever this script started.
bash infra/local.sh up
trap 'bash infra/local.sh down >/dev/null 2>&1 || true; rm -rf "$results"' EXIT
eval "$(bash infra/local.sh env)"
# dclint checks docker-compose.yml against the compose schema (no Docker engine here); pinned.
[[ -x .infra/node/node_modules/.bin/dclint ]] || npm install --prefix .infra/node dclint@3.1.0 --no-audit --no-fund >/dev/null
# infra/k8s/validate.mjs checks the Kubernetes manifests against the Kubernetes and KEDA schemas (no cluster here); pinned.
grep -qs '"version": "5.1.0"' .infra/node/node_modules/kubernetes-models/package.json \
  && grep -qs '"version": "2.0.0"' .infra/node/node_modules/@kubernetes-models/keda/package.json \
  && grep -qs '"version": "2.9.1"' .infra/node/node_modules/yaml/package.json \
  || npm install --prefix .infra/node kubernetes-models@5.1.0 @kubernetes-models/keda@2.0.0 yaml@2.9.1 --no-audit --no-fund --loglevel=error >/dev/null

# The model tests compare against an independent reference: Debian's PyTorch running our own
# reference code (tests/reference).
bash tests/reference/install.sh

dotnet build Morlaif.Pipeline.sln -c Release -v q -nologo
status=0
# --blame: if a test host crashes, its report names the test that was running.
dotnet test Morlaif.Pipeline.sln -c Release --no-build -nologo -v q --blame \
  --logger "trx" --results-directory "$results" "$@" || status=$?

python3 - "$results" "$status" <<'PY'
import glob, re, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    root = ET.parse(f).getroot()
    # A test host that crashed leaves the tests it had not reached out of every counter: count the crash.
    # (Other 'Error' run infos are xUnit's echo of a failed test, already counted below.)
    for info in root.iterfind("t:ResultSummary/t:RunInfos/t:RunInfo[@outcome='Error']", ns):
        text = (info.findtext("t:Text", default="", namespaces=ns) or "").strip()
        if re.search(r"test host process crashed|test run (was )?aborted", text, re.IGNORECASE):
            print(f"ABORTED {f}\n  {text[:2000]}")
            failed += 1
    # dotnet test -v q prints no failure messages: print each failed test's name and message here.
    for r in root.iterfind("t:Results/t:UnitTestResult[@outcome='Failed']", ns):
        message = r.find("t:Output/t:ErrorInfo/t:Message", ns)
        print(f"FAILED {r.get('testName')}\n  {(message.text or '')[:2000] if message is not None else ''}")
    c = root.find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed")); failed += int(c.get("failed")) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
if int(sys.argv[2]) != 0 and failed == 0:
    print(f"dotnet test exited with status {sys.argv[2]} without a failed test in its results")
    failed = 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
