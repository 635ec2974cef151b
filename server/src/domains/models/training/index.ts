// The training library's public surface. The job and GraphQL layers import from here only.
export { BACKENDS, selectBackend, selectBackendWithReasons, type BackendChoice, type BackendName } from "./backend";
export { featureMatrix, frameToArrays, labelStrings, regressionTarget, TASKS, type Task } from "./data";
export { readParquet } from "./dataset";
export { evaluate, type ClassificationEvaluation, type Evaluation, type RegressionEvaluation } from "./evaluate";
export { MAX_CURVE_POINTS, type PrPoint, type RocPoint } from "./curves";
export { SAVED_MODEL_FORMAT, type FeatureField, type ModelSignature } from "./saved-model";
export { formatPredictions, loadModel, predict, predictMatrix, saveModel, type LoadedModel, type Predictions, type SavedModel } from "./serialize";
export { parseTrainInput, type ModelSpec, type ResolvedTrainInput, type TrainInput } from "./spec";
export { trainModel, type EpochRecord, type StopReason, type TrainHooks, type TrainResult } from "./train";
export { encodeEpochProgress, evaluateTask, parseEpochProgress, trainTask, type EvaluateTaskInput } from "./training.work";
