/** The longest names of the Halifax feed (tests/board-fit.test.ts checks them against the feed). */
export const HALIFAX_LONGEST_STOP = 'St Margarets Bay Rd After Governors Lake Dr (6186)';
export const HALIFAX_LONGEST_HEADSIGN = [
  '183',
  '183 SPRINGFIELD EXPRESS VIA SACKVILLE TERMINAL',
] as const;
