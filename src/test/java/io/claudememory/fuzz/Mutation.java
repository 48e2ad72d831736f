package io.claudememory.fuzz;

import java.util.function.Consumer;

/**
 * One change to the valid request of an operation: the kind of case it makes ({@code category}: valid, auth, path,
 * query, header, transport, body, field, multipart) and what it does ({@code label}, shown in failure reports).
 */
record Mutation(String category, String label, Consumer<FuzzCase.Draft> apply) {
  static final String VALID = "valid";

  /** Both changes, one after the other. */
  Mutation and(Mutation other) {
    return new Mutation("combined", label + " + " + other.label, apply.andThen(other.apply));
  }
}
