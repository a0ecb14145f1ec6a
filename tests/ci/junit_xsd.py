"""`check --format junit` on every fixture case validates against the JUnit XSD.

Usage: python junit_xsd.py BINARY. The schema is tests/data/junit/junit-10.xsd (Jenkins' xunit
schema, as pytest ships it for its own JUnit output tests); xmlschema (PyPI) validates. Run by
scripts/ci-tests, which installs xmlschema into a venv under the target directory.
"""

import pathlib
import subprocess
import sys

import xmlschema

ROOT = pathlib.Path(__file__).resolve().parents[2]


def case_args(case: pathlib.Path) -> list[str]:
    args_file = case / "args"
    args = args_file.read_text().split() if args_file.exists() else []
    inputs = sorted(
        p.name for p in case.iterdir() if p.suffix in (".yaml", ".yml", ".json")
    )
    return args + inputs


def main() -> int:
    binary = sys.argv[1]
    schema = xmlschema.XMLSchema(ROOT / "tests/data/junit/junit-10.xsd")
    # The validator does reject what the schema forbids: a test case without a name.
    bad = '<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>'
    if schema.is_valid(bad):
        print("FAIL: the schema accepts a test case without a name", file=sys.stderr)
        return 1
    cases = sorted(p for p in (ROOT / "tests/fixtures").iterdir() if p.is_dir())
    failed = 0
    documents = 0
    for case in cases:
        for fail_on in ("error", "warning"):
            out = subprocess.run(
                [binary, "check", "--format", "junit", "--fail-on", fail_on, *case_args(case)],
                cwd=case,
                capture_output=True,
                check=False,
            )
            if out.returncode not in (0, 1):
                print(f"FAIL {case.name}: exit {out.returncode}: {out.stderr.decode()}")
                failed += 1
                continue
            errors = list(schema.iter_errors(out.stdout.decode()))
            documents += 1
            if errors:
                failed += 1
                print(f"FAIL {case.name} --fail-on {fail_on}: {errors[0]}")
    print(f"JUnit XSD: {documents - failed} passed, {failed} failed ({len(cases)} fixture cases)")
    return 1 if failed or documents < 80 else 0


if __name__ == "__main__":
    sys.exit(main())
