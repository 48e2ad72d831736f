# Claude Memory Backend: build with the Maven wrapper on a JDK 17, run the shaded jar on a JRE 17 as a non-root user.
#   docker build -t claude-memory-backend .
#   docker compose up        (see docker-compose.yml: two nodes, PostgreSQL, Redis, nginx, Prometheus, Grafana)

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again (best effort: whatever go-offline
# misses, package fetches).
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline || true
COPY conf conf
COPY src src
RUN ./mvnw -B -q -DskipTests package

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 cmb \
 && useradd --system --uid 10001 --gid cmb --home-dir /app --shell /usr/sbin/nologin cmb \
 && mkdir -p /app/data /app/storage \
 && chown cmb:cmb /app/data /app/storage
WORKDIR /app
COPY --from=build /src/target/claude-memory-backend.jar /app/claude-memory-backend.jar
COPY conf /app/conf
USER 10001:10001
ENV PORT=3001 \
    DATA_DIR=/app/data \
    STORAGE_PATH=/app/storage \
    APP_PROFILE=production \
    JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
EXPOSE 3001
VOLUME ["/app/storage"]
# exec: the JVM is PID 1 and gets SIGTERM directly, so it drains before exiting.
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/claude-memory-backend.jar"]
