// Test data: the real penguins table from vega-datasets, made numeric with polars the way a
// recipe would (drop incomplete rows, one-hot the categories, short names), then split into a
// training file and a held-out file that no training run ever sees.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pl, { type DataFrame } from "nodejs-polars";

export const MEASUREMENTS = ["beak_length", "beak_depth", "flipper_length", "body_mass"];
export const ISLANDS = ["island_Biscoe", "island_Dream", "island_Torgersen"];
export const SPECIES = ["species_Adelie", "species_Chinstrap", "species_Gentoo"];

export interface PenguinFiles {
  dir: string;
  /** ~80% of the complete rows. */
  train: string;
  /** Every fifth row: held out for scoring. */
  test: string;
  trainFrame: DataFrame;
  testFrame: DataFrame;
  cleanup(): void;
}

export function penguinFrame(): DataFrame {
  const raw = pl.DataFrame(JSON.parse(readFileSync(path.resolve("node_modules/vega-datasets/data/penguins.json"), "utf8")));
  const oneHot = (column: string, values: string[], prefix: string) =>
    values.map((v) => pl.col(column).eq(pl.lit(v)).cast(pl.Float64).alias(`${prefix}_${v}`));
  return raw
    .dropNulls()
    .filter(pl.col("Sex").neq(pl.lit("."))) // one row has "." for sex: not a value, a typo
    .select(
      pl.col("Beak Length (mm)").alias("beak_length"),
      pl.col("Beak Depth (mm)").alias("beak_depth"),
      // Whole numbers in the source; kept as integers so integer columns are exercised too.
      pl.col("Flipper Length (mm)").cast(pl.Int64).alias("flipper_length"),
      pl.col("Body Mass (g)").cast(pl.Int64).alias("body_mass"),
      ...oneHot("Island", ["Biscoe", "Dream", "Torgersen"], "island"),
      ...oneHot("Species", ["Adelie", "Chinstrap", "Gentoo"], "species"),
      pl.col("Species").alias("species"),
      pl.col("Sex").alias("sex"),
    );
}

export function penguinFiles(): PenguinFiles {
  const dir = mkdtempSync(path.join(tmpdir(), "ouro-training-"));
  const frame = penguinFrame().withRowIndex("row");
  const held = pl.col("row").modulo(5).eq(0);
  const trainFrame = frame.filter(held.not()).drop("row");
  const testFrame = frame.filter(held).drop("row");
  // No ".parquet" extension, like artifact blobs: the reader must not need one.
  const train = path.join(dir, "train");
  const test = path.join(dir, "test");
  trainFrame.writeParquet(train);
  testFrame.writeParquet(test);
  return { dir, train, test, trainFrame, testFrame, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
