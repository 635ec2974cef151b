/**
 * Canary rollouts from the deployment view: start one (a challenger version takes a share of
 * the traffic, through `startRollout`), promote it (`approveRollout`) or roll it back
 * (`rollbackRollout`). Each asks for confirmation in words that say what traffic will do.
 */
import { Dialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import { describeError, type OuroConnection } from "./connection";
import { h } from "./dom";
import { PromoteCanaryDocument, RollBackCanaryDocument, StartCanaryDocument } from "./generated/graphql";

export interface VersionChoice {
  id: string;
  label: string;
}

interface CanaryRequest {
  versionId: string;
  percent: number;
  mode: "manual" | "auto";
  minLabels: number;
}

class CanaryForm extends Widget {
  constructor(choices: VersionChoice[]) {
    super();
    this.addClass("ouro-form");
    this.node.append(
      h("label", {}, "Challenger version", h("select", { name: "version" }, ...choices.map((c) => h("option", { value: c.id }, c.label)))),
      // No min/max on the share: the dialog would only grey out "Next"; startCanary says what is wrong instead.
      h("label", {}, "Share of traffic for the challenger (%)", h("input", { name: "percent", type: "number", value: 10 })),
      h(
        "label",
        {},
        "Decision",
        h(
          "select",
          { name: "mode" },
          h("option", { value: "manual" }, "by hand: promote or roll back from this view"),
          h("option", { value: "auto" }, "automatic: by live accuracy once both sides have enough labels"),
        ),
      ),
      h("label", {}, "Labelled predictions each side needs before a verdict", h("input", { name: "minLabels", type: "number", min: 1, max: 1000000, value: 100 })),
      h("p", { class: "ouro-hint" }, "The current route keeps the rest of the traffic. Requests in flight finish on the old routes; nothing fails while the traffic moves."),
    );
  }

  private field(name: string): HTMLInputElement | HTMLSelectElement {
    return this.node.querySelector(`[name="${name}"]`) as HTMLInputElement | HTMLSelectElement;
  }

  getValue(): CanaryRequest {
    return {
      versionId: this.field("version").value,
      percent: Number(this.field("percent").value),
      mode: this.field("mode").value === "auto" ? "auto" : "manual",
      minLabels: Math.round(Number(this.field("minLabels").value) || 100),
    };
  }
}

/** Form → confirmation → startRollout. True when the canary started. */
export async function startCanary(connection: OuroConnection, deployment: { id: string; name: string }, champion: string, choices: VersionChoice[]): Promise<boolean> {
  if (!choices.length) {
    await showErrorMessage("No challenger", "The model has no other version to try: register another version first.");
    return false;
  }
  const form = await showDialog({ title: `Canary on ${deployment.name}`, body: new CanaryForm(choices), buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Next" })] });
  if (!form.button.accept || !form.value) return false;
  const req = form.value as CanaryRequest;
  if (!Number.isFinite(req.percent) || req.percent <= 0 || req.percent >= 100) {
    await showErrorMessage("Canary not started", "The challenger's share is a percentage between 1 and 99.");
    return false;
  }
  const challenger = choices.find((c) => c.id === req.versionId)?.label ?? req.versionId;
  const confirm = await showDialog({
    title: "Start canary?",
    body:
      `Send ${req.percent}% of ${deployment.name}'s traffic to ${challenger}; ${champion} keeps ${100 - req.percent}%. ` +
      (req.mode === "manual" ? "It stays that way until you promote or roll back." : `Ouro promotes or rolls back once both sides have ${req.minLabels} labelled predictions.`),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Start canary" })],
  });
  if (!confirm.button.accept) return false;
  try {
    await connection.client.request(StartCanaryDocument, { input: { deploymentId: deployment.id, challengerVersionId: req.versionId, canaryWeight: req.percent / 100, mode: req.mode, minLabels: req.minLabels } });
    return true;
  } catch (err) {
    await showErrorMessage("Canary not started", describeError(err, "The deployment"));
    return false;
  }
}

/** Promote (all traffic to the challenger) or roll back (all to the champion), after confirmation. */
export async function decideCanary(connection: OuroConnection, deployment: { id: string; name: string }, promote: boolean, champion: string, challenger: string): Promise<boolean> {
  const confirm = await showDialog({
    title: promote ? "Promote the challenger?" : "Roll back the canary?",
    body: promote
      ? `Send all of ${deployment.name}'s traffic to ${challenger}. ${champion} stops answering (it stays registered).`
      : `Send all of ${deployment.name}'s traffic back to ${champion}. ${challenger} stops answering.`,
    buttons: [Dialog.cancelButton(), promote ? Dialog.okButton({ label: "Promote" }) : Dialog.warnButton({ label: "Roll back" })],
  });
  if (!confirm.button.accept) return false;
  try {
    if (promote) await connection.client.request(PromoteCanaryDocument, { id: deployment.id });
    else await connection.client.request(RollBackCanaryDocument, { id: deployment.id });
    return true;
  } catch (err) {
    await showErrorMessage(promote ? "Not promoted" : "Not rolled back", describeError(err, "The deployment"));
    return false;
  }
}
