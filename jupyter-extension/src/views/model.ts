import { deployVersion, setAlias } from "../actions";
import { barChart, formatNumber } from "../chart";
import type { OuroConnection } from "../connection";
import { h, table, when, fill } from "../dom";
import { ModelPanelDocument, type ModelPanelQuery } from "../generated/graphql";
import { OuroPanel, type OuroItem } from "./panel";

type Model = ModelPanelQuery["model"];

/** A registered model: versions with their metrics, who holds which alias, and alias moves. */
export class ModelView extends OuroPanel {
  constructor(connection: OuroConnection, modelId: string, label: string, private readonly open: (item: OuroItem) => void) {
    super(connection, { kind: "model", id: modelId, label });
  }

  protected async load(): Promise<void> {
    const { model } = await this.client.request(ModelPanelDocument, { id: this.item.id }, { signal: this.signal });
    this.item.projectId = model.projectId;
    this.title.label = `Model ${model.name}`;
    this.render(model);
  }

  private render(model: Model): void {
    const aliasesOf = (versionId: string) => model.aliases.filter((a) => a.modelVersionId === versionId).map((a) => a.alias);
    const metricKeys = [...new Set(model.versions.flatMap((v) => Object.keys(v.metrics)))].filter((k) => model.versions.some((v) => typeof v.metrics[k] === "number")).sort();
    fill(this.header, 
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Model"), h("strong", {}, model.name)),
      h("div", { class: "ouro-meta" }, model.description || `${model.versions.length} version(s)`),
    );
    const rows = model.versions.map((v) => [
      h("strong", {}, `v${v.version}`),
      aliasesOf(v.id).map((a) => `@${a}`).join(" ") || "–",
      when(v.createdAt),
      ...metricKeys.map((k) => formatNumber(v.metrics[k])),
      v.runId ? h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), this.open({ kind: "run", id: v.runId!, label: `run of v${v.version}` })) }, "run") : "–",
      h(
        "span",
        { class: "ouro-actions" },
        h("button", { class: "jp-mod-styled", "data-ouro-action": "alias", onclick: () => void this.alias(model, v) }, "Set alias…"),
        h("button", { class: "jp-mod-styled jp-mod-accept", "data-ouro-action": "deploy", onclick: () => void this.deploy(model, v) }, "Deploy…"),
      ),
    ]);
    const first = metricKeys[0];
    fill(this.body, 
      h("h3", {}, "Versions"),
      model.versions.length ? table(["version", "aliases", "created", ...metricKeys, "", ""], rows, "ouro-table ouro-versions") : h("div", { class: "ouro-empty" }, "No versions registered yet."),
      first && model.versions.length > 1
        ? h("div", {}, h("h3", {}, first), barChart([...model.versions].reverse().map((v) => ({ label: `v${v.version}`, count: Number(v.metrics[first]) || 0 })), `${first} per version, oldest first`))
        : null,
      h("h3", {}, "Alias history"),
      model.aliases.length ? table(["alias", "version", "since"], model.aliases.map((a) => [a.alias, `v${model.versions.find((v) => v.id === a.modelVersionId)?.version ?? "?"}`, when(a.createdAt)])) : h("div", { class: "ouro-empty" }, "No aliases yet."),
    );
  }

  private async deploy(model: Model, version: Model["versions"][number]): Promise<void> {
    const deployment = await deployVersion(this.connection, model, version);
    if (deployment) this.open({ kind: "deployment", id: deployment.id, label: deployment.name, projectId: model.projectId });
  }

  private async alias(model: Model, version: Model["versions"][number]): Promise<void> {
    if (await setAlias(this.connection, model.name, version)) await this.load().catch((err) => this.fail(err));
  }
}
