/** `values` without repeats, first occurrence first: the array itself when it has none (kept by long-lived watches, so not copied). */
export function distinct<T>(values: readonly T[]): readonly T[] {
  const unique = new Set(values);
  return unique.size === values.length ? values : [...unique];
}
