# Shared by the scripts in scripts/bench (sourced, not run): builds the shaded jar and the test classes when
# anything they come from changed, and runs a load generator class from src/test/java/io/claudememory/bench.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAR="$ROOT/target/claude-memory-backend.jar"
CP_FILE="$ROOT/target/cp.txt"

# Rebuild when the jar is missing or older than any source, resource, configuration file or the pom.
bench_build() {
  cd "$ROOT"
  local stale=""
  if [[ ! -f "$JAR" || ! -d target/test-classes/io/claudememory/bench ]]; then
    stale=yes
  elif [[ -n "$(find pom.xml src conf -newer "$JAR" -type f -print -quit)" ]]; then
    stale=yes
  fi
  if [[ -n "$stale" ]]; then
    echo "building target/claude-memory-backend.jar ..." >&2
    ./mvnw -B -q -DskipTests package
  fi
  if [[ ! -f "$CP_FILE" || pom.xml -nt "$CP_FILE" ]]; then
    ./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
  fi
}

# bench_java <main class simple name> [--name value ...]
bench_java() {
  local main="$1"
  shift
  cd "$ROOT"
  java -cp "target/test-classes:target/classes:$(cat "$CP_FILE")" "io.claudememory.bench.$main" \
    --jar "$JAR" --results "$ROOT/bench-results" "$@"
}
