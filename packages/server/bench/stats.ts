/** The middle of the runs (the upper middle for an even count): benchmarks report it, with the spread. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
