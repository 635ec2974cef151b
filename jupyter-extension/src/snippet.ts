/**
 * "Insert snippet": the Python client call (client-sdk/python, `import ouro`) that fetches the
 * selected item, as a new code cell below the active one. The client reads OURO_URL and
 * OURO_TOKEN from the kernel's environment.
 */
import type { OuroItem } from "./views/panel";

const HEADER = "from ouro import Ouro\n\nouro = Ouro()  # OURO_URL and OURO_TOKEN from the environment\n";

export function snippetFor(item: OuroItem): string {
  const id = JSON.stringify(item.id);
  switch (item.kind) {
    case "project":
      return `${HEADER}project = ouro.projects.get(${id})\nproject`;
    case "dataset":
      return `${HEADER}dataset = ouro.datasets.get(${id})\nversion = dataset.latest_version\nouro.datasets.preview(version).to_pandas()`;
    case "datasetVersion":
      return `${HEADER}version = ouro.datasets.version(${id})\nversion.preview().to_pandas()`;
    case "featureSet":
      return `${HEADER}feature_set = ouro.features.get(${id})\nfeature_set`;
    case "experiment":
      return `${HEADER}runs = ouro.runs.list(${JSON.stringify(item.projectId ?? "")}, experiment=${JSON.stringify(item.label)})\nruns`;
    case "run":
      return `${HEADER}run = ouro.runs.get(${id})\nprint(run.params_dict())\nrun.chart()`;
    case "model":
      return `${HEADER}model = ouro.models.get(${id})\nmodel.versions`;
    case "modelVersion":
      return `${HEADER}model_version = ouro.models.version(${id})\nmodel_version.metrics`;
    case "deployment":
      return `${HEADER}deployment = ouro.deployments.get(${id})\ndeployment`;
    case "monitor":
      return `${HEADER}monitor = ouro.monitors.get(${id})\nmonitor`;
    case "alert":
      return `${HEADER}alerts = ouro.alerts.list(${JSON.stringify(item.projectId ?? "")})\nalerts`;
    case "pipeline":
      return `${HEADER}pipeline = ouro.pipelines.get(${id})\npipeline`;
    case "job":
      return `${HEADER}job = ouro.jobs.get(${id})\njob.wait()`;
    case "labellingTask":
      return `${HEADER}task = ouro.labelling.get(${id})\nouro.labelling.items(task, limit=50)`;
  }
}
