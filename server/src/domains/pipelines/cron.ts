/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC.
 * Each field takes `*`, numbers, ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b,c`, and
 * names for months (JAN..DEC) and weekdays (SUN..SAT); day-of-week 7 is Sunday too. As in
 * Vixie cron, when both day fields are restricted a day matches if either does.
 */
export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  dayRestricted: boolean;
  weekdayRestricted: boolean;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  namesFrom?: number;
}

const FIELDS: FieldDef[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

function value(token: string, f: FieldDef): number {
  const upper = token.toUpperCase();
  const named = f.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + f.namesFrom!;
  if (!/^\d{1,2}$/.test(token)) throw new Error(`${f.name}: ${JSON.stringify(token)} is not a number`);
  const n = Number(token);
  if (n < f.min || n > f.max) throw new Error(`${f.name}: ${n} is outside ${f.min}-${f.max}`);
  return n;
}

function parseField(text: string, f: FieldDef): { values: Set<number>; restricted: boolean } {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(part);
    if (!m) throw new Error(`${f.name}: cannot read ${JSON.stringify(part)}`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new Error(`${f.name}: a step must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === "*") [lo, hi] = [f.min, f.max];
    else if (m[1].includes("-")) {
      const [a, b, extra] = m[1].split("-");
      if (extra !== undefined) throw new Error(`${f.name}: cannot read ${JSON.stringify(part)}`);
      [lo, hi] = [value(a, f), value(b, f)];
      if (lo > hi) throw new Error(`${f.name}: range ${m[1]} goes backwards`);
    } else {
      lo = value(m[1], f);
      hi = m[2] === undefined ? lo : f.max;
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  // As in Vixie cron, a field starting with * (including */n) does not restrict the day.
  return { values, restricted: !text.startsWith("*") };
}

export function parseCron(expression: string): CronSchedule {
  if (expression.length > 200) throw new Error("expression too long");
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => parseField(p, FIELDS[i]));
  if (weekdays.values.has(7)) weekdays.values.add(0);
  return {
    minutes: minutes.values,
    hours: hours.values,
    days: days.values,
    months: months.values,
    weekdays: weekdays.values,
    dayRestricted: days.restricted,
    weekdayRestricted: weekdays.restricted,
  };
}

/** Whether the schedule fires in the (UTC) minute containing `at`. */
export function matches(s: CronSchedule, at: Date): boolean {
  if (!s.minutes.has(at.getUTCMinutes()) || !s.hours.has(at.getUTCHours()) || !s.months.has(at.getUTCMonth() + 1)) return false;
  const dom = s.days.has(at.getUTCDate());
  const dow = s.weekdays.has(at.getUTCDay());
  if (s.dayRestricted && s.weekdayRestricted) return dom || dow;
  if (s.dayRestricted) return dom;
  if (s.weekdayRestricted) return dow;
  return true;
}

const MINUTE = 60_000;

/** The first minute strictly after `after` when the schedule fires (null if none within ~5 years, e.g. Feb 30). */
export function nextRun(s: CronSchedule, after: Date): Date | null {
  let t = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE;
  const limit = t + 5 * 366 * 24 * 60 * MINUTE;
  while (t < limit) {
    const d = new Date(t);
    if (!s.months.has(d.getUTCMonth() + 1)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (matches(s, d)) return d;
    t += MINUTE;
  }
  return null;
}

/** The minutes in (from, to] at which the schedule fires, oldest first, at most `max`. */
export function dueMinutes(s: CronSchedule, from: Date, to: Date, max = 60): Date[] {
  const out: Date[] = [];
  let cursor = from;
  while (out.length < max) {
    const next = nextRun(s, cursor);
    if (!next || next.getTime() > to.getTime()) break;
    out.push(next);
    cursor = next;
  }
  return out;
}
