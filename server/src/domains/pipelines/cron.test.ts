import { describe, expect, it } from "vitest";
import { dueMinutes, matches, nextRun, parseCron } from "./cron";

const at = (iso: string) => new Date(iso);

describe("cron", () => {
  it("computes the next run for common schedules", () => {
    expect(nextRun(parseCron("*/15 * * * *"), at("2026-03-01T10:07:30Z"))?.toISOString()).toBe("2026-03-01T10:15:00.000Z");
    expect(nextRun(parseCron("0 3 * * *"), at("2026-03-01T03:00:00Z"))?.toISOString()).toBe("2026-03-02T03:00:00.000Z");
    // 2026-03-01 is a Sunday: the next Monday 09:30.
    expect(nextRun(parseCron("30 9 * * MON"), at("2026-03-01T12:00:00Z"))?.toISOString()).toBe("2026-03-02T09:30:00.000Z");
    expect(nextRun(parseCron("0 0 1 JAN,jul *"), at("2026-03-01T00:00:00Z"))?.toISOString()).toBe("2026-07-01T00:00:00.000Z");
    expect(nextRun(parseCron("0 12 29 2 *"), at("2026-03-01T00:00:00Z"))?.toISOString()).toBe("2028-02-29T12:00:00.000Z");
    expect(nextRun(parseCron("0 0 30 2 *"), at("2026-03-01T00:00:00Z"))).toBeNull();
  });

  it("treats both restricted day fields as either-or, and 7 as Sunday", () => {
    const s = parseCron("0 0 13 * 5"); // the 13th, or any Friday
    expect(matches(s, at("2026-03-13T00:00:00Z"))).toBe(true); // Friday the 13th
    expect(matches(s, at("2026-04-13T00:00:00Z"))).toBe(true); // a Monday, but the 13th
    expect(matches(s, at("2026-04-17T00:00:00Z"))).toBe(true); // a Friday
    expect(matches(s, at("2026-04-14T00:00:00Z"))).toBe(false);
    expect(matches(parseCron("0 0 * * 7"), at("2026-03-01T00:00:00Z"))).toBe(true);
    expect(matches(parseCron("0 0 */2 * 1"), at("2026-03-02T00:00:00Z"))).toBe(true); // */ does not restrict: Monday only
    expect(matches(parseCron("0 0 */2 * 1"), at("2026-03-03T00:00:00Z"))).toBe(false);
  });

  it("lists the due minutes in a window, oldest first, without the window's start", () => {
    const s = parseCron("0-10/5 8 * * *");
    expect(dueMinutes(s, at("2026-03-01T08:00:00Z"), at("2026-03-01T09:00:00Z")).map((d) => d.toISOString())).toEqual([
      "2026-03-01T08:05:00.000Z",
      "2026-03-01T08:10:00.000Z",
    ]);
    expect(dueMinutes(parseCron("* * * * *"), at("2026-03-01T08:00:30Z"), at("2026-03-01T08:03:10Z"))).toHaveLength(3);
    expect(dueMinutes(parseCron("* * * * *"), at("2026-03-01T08:00:00Z"), at("2026-03-01T09:00:00Z"), 4)).toHaveLength(4);
  });

  it("rejects malformed expressions with a reason", () => {
    expect(() => parseCron("* * * *")).toThrow(/5 fields/);
    expect(() => parseCron("60 * * * *")).toThrow(/minute: 60 is outside 0-59/);
    expect(() => parseCron("* * * * FUNDAY")).toThrow(/day of week/);
    expect(() => parseCron("5-1 * * * *")).toThrow(/backwards/);
    expect(() => parseCron("*/0 * * * *")).toThrow(/at least 1/);
    expect(() => parseCron("1,,2 * * * *")).toThrow(/minute/);
  });
});
