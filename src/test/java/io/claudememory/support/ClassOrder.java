package io.claudememory.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Comparator;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;

/**
 * The order of test classes in one run (set in {@code junit-platform.properties}): as discovered, except that classes
 * marked {@link Last} run after all the others. The security suite's final check ({@code SecretsInLogsTest}) reads the
 * logs every other class of the suite produced, so it must come after them.
 */
public final class ClassOrder implements ClassOrderer {
  /** A class that runs after every class without this mark. */
  @Target(ElementType.TYPE)
  @Retention(RetentionPolicy.RUNTIME)
  public @interface Last {}

  @Override
  public void orderClasses(ClassOrdererContext context) {
    // a stable sort: everything else keeps the order it was discovered in
    context.getClassDescriptors().sort(Comparator.comparing(d -> d.isAnnotated(Last.class)));
  }
}
