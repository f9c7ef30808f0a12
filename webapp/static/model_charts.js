/* Draw the charts of a model type's page from the data attributes of its canvases. */
(function () {
  const charts = window.matchloopCharts;
  const data = (id, key) => {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.dataset[key]) : null;
  };
  const roc = data("roc-chart", "datasets");
  if (roc) {
    charts.lines("roc-chart", [...roc, charts.diagonal("chance")], "False positive rate", "True positive rate");
  }
  const calibration = data("calibration-chart", "datasets");
  if (calibration) {
    const withPoints = calibration.map((d) => ({ pointRadius: 3, ...d }));
    charts.lines("calibration-chart", [...withPoints, charts.diagonal("perfect")], "Predicted probability", "Observed success rate");
  }
  const labels = data("importance-chart", "labels");
  if (labels) {
    charts.horizontalBar("importance-chart", labels, data("importance-chart", "scores"), "Importance");
  }
})();
