/* Small wrappers around Chart.js so templates only pass data. */
window.matchloopCharts = {
  palette: ["#1095c1", "#d9480f", "#2f9e44", "#7048e8", "#c2255c"],
  bar(id, labels, values, label) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: "#1095c1" }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } } },
    });
  },
  horizontalBar(id, labels, values, label) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: "#1095c1" }] },
      options: { indexAxis: "y", maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } } },
    });
  },
  /* A dashed grey y = x line: chance on a ROC chart, perfect calibration on a reliability chart. */
  diagonal(label) {
    return {
      label, data: [{ x: 0, y: 0 }, { x: 1, y: 1 }],
      borderColor: "#adb5bd", backgroundColor: "#adb5bd", borderDash: [6, 4], borderWidth: 1,
    };
  },
  lines(id, datasets, xLabel, yLabel) {
    const colour = (i) => this.palette[i % this.palette.length];
    return new Chart(document.getElementById(id), {
      type: "scatter",
      data: {
        datasets: datasets.map((d, i) => ({
          showLine: true, pointRadius: 0, borderWidth: 2,
          borderColor: colour(i), backgroundColor: colour(i), ...d,
        })),
      },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: { min: 0, max: 1, title: { display: true, text: xLabel } },
                  y: { min: 0, max: 1, title: { display: true, text: yLabel } } },
      },
    });
  },
};
