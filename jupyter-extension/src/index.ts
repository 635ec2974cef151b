/**
 * Ouro for JupyterLab: a sidebar with the project tree and views for datasets, runs (live
 * charts), run comparisons, models and jobs. Everything goes through the server extension's
 * /ouro/ proxy; the page never holds an Ouro token.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget, showErrorMessage, WidgetTracker } from "@jupyterlab/apputils";
import { INotebookTracker, NotebookActions } from "@jupyterlab/notebook";
import { ISettingRegistry } from "@jupyterlab/settingregistry";
import { LabIcon } from "@jupyterlab/ui-components";
import { describeError, OuroConnection } from "./connection";
import { snippetFor } from "./snippet";
import { OuroSidebar } from "./tree";
import { CompareView } from "./views/compare";
import { DatasetView } from "./views/dataset";
import { DeploymentView } from "./views/deployment";
import { AlertView } from "./views/alert";
import { FeatureSetView } from "./views/feature-set";
import { JobView } from "./views/job";
import { MonitorView } from "./views/monitor";
import { PipelineView } from "./views/pipeline";
import { LabellingView } from "./views/labelling";
import { ModelView } from "./views/model";
import type { OuroItem, OuroPanel } from "./views/panel";
import { RunView } from "./views/run";

const PLUGIN_ID = "@ouro/jupyter-extension:plugin";

const ouroIcon = new LabIcon({
  name: "ouro:logo",
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><path d="M12 3a9 9 0 1 0 9 9h-2.5A6.5 6.5 0 1 1 12 5.5V3z"/><path d="M14 2l5 3.5L14 9z"/></g></svg>',
});

export const CommandIds = {
  openSidebar: "ouro:open-sidebar",
  refresh: "ouro:refresh",
  insertSnippet: "ouro:insert-snippet",
  open: "ouro:open",
  compare: "ouro:compare-runs",
} as const;

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: "Ouro project tree, live run charts and actions.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
  ) => {
    const connection = new OuroConnection();
    const tracker = new WidgetTracker<MainAreaWidget<OuroPanel>>({ namespace: "ouro" });

    const open = (item: OuroItem): void => {
      const id = `ouro-view-${item.kind}-${item.id}`;
      const existing = tracker.find((w) => w.id === id);
      if (existing) {
        app.shell.activateById(id);
        return;
      }
      let content: OuroPanel;
      switch (item.kind) {
        case "run":
          content = new RunView(connection, item.id, item.label);
          break;
        case "dataset":
          content = new DatasetView(connection, item.id, item.label, open);
          break;
        case "model":
          content = new ModelView(connection, item.id, item.label, open);
          break;
        case "job":
          content = new JobView(connection, item.id, item.label);
          break;
        case "deployment":
          content = new DeploymentView(connection, item.id, item.label, open);
          break;
        case "labellingTask":
          content = new LabellingView(connection, item.id, item.label, open);
          break;
        case "monitor":
          content = new MonitorView(connection, item.id, item.label, open);
          break;
        case "alert":
          content = new AlertView(connection, item.id, item.label, open);
          break;
        case "pipeline":
          content = new PipelineView(connection, item.id, item.label, open);
          break;
        case "featureSet":
          content = new FeatureSetView(connection, item.id, item.label, open);
          break;
        default:
          return;
      }
      const widget = new MainAreaWidget({ content });
      widget.id = id;
      widget.title.icon = ouroIcon;
      content.title.changed.connect(() => (widget.title.label = content.title.label));
      widget.title.label = content.title.label;
      void tracker.add(widget);
      app.shell.add(widget, "main");
      app.shell.activateById(id);
    };

    const insertSnippet = (item: OuroItem): void => {
      const panel = notebooks.currentWidget;
      if (!panel) {
        void showErrorMessage("No notebook", "Open a notebook first: the snippet goes below its active cell.");
        return;
      }
      const notebook = panel.content;
      NotebookActions.insertBelow(notebook);
      notebook.activeCell?.model.sharedModel.setSource(snippetFor(item));
      app.shell.activateById(panel.id);
    };

    const sidebar = new OuroSidebar(connection, {
      open,
      compare: (runIds) => {
        const content = new CompareView(connection, runIds);
        const widget = new MainAreaWidget({ content });
        widget.title.icon = ouroIcon;
        widget.title.label = content.title.label;
        app.shell.add(widget, "main");
        app.shell.activateById(widget.id);
      },
      insertSnippet,
    });
    sidebar.title.icon = ouroIcon;
    app.shell.add(sidebar, "left", { rank: 900 });
    restorer?.add(sidebar, "ouro-sidebar");

    app.commands.addCommand(CommandIds.openSidebar, {
      label: "Ouro: Show Project Tree",
      execute: () => app.shell.activateById(sidebar.id),
    });
    app.commands.addCommand(CommandIds.refresh, { label: "Ouro: Refresh", execute: () => sidebar.start() });
    app.commands.addCommand(CommandIds.insertSnippet, {
      label: "Ouro: Insert Snippet for Selected Item",
      isEnabled: () => sidebar.selected !== null || tracker.currentWidget !== null,
      execute: () => {
        const item = tracker.currentWidget?.content.item ?? sidebar.selected;
        if (item) insertSnippet(item);
      },
    });
    app.commands.addCommand(CommandIds.open, {
      label: "Ouro: Open Item",
      execute: (args) => open({ kind: args.kind as OuroItem["kind"], id: String(args.id), label: String(args.label ?? args.id) }),
    });
    for (const command of [CommandIds.openSidebar, CommandIds.refresh, CommandIds.insertSnippet]) palette?.addItem({ command, category: "Ouro" });

    // The server URL setting: applied to the proxy, then the tree reconnects.
    const applySettings = async (settings: ISettingRegistry.ISettings) => {
      const url = (settings.get("serverUrl").composite as string) ?? "";
      try {
        const status = await connection.handshake();
        // "" puts the proxy back on the URL the Jupyter server was started with.
        if (status.urlChangeAllowed) await connection.setServerUrl(url);
        await connection.reset();
      } catch (err) {
        // The tree shows handshake problems itself.
        console.warn("Ouro: could not apply the server URL setting:", describeError(err));
      }
      await sidebar.start();
    };
    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then((settings) => {
          settings.changed.connect(() => void applySettings(settings));
          return applySettings(settings);
        })
        .catch(() => sidebar.start());
    } else {
      void sidebar.start();
    }
  },
};

export default plugin;
