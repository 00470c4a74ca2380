// The report's one stylesheet. Narrow screens (a phone, 390 px) get one column, legends under their plots and
// tables that scroll inside their own box, so the page itself never scrolls sideways.
export const reportStyle = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:20px 24px;max-width:1280px;color:#1d2330;background:#fff}
h1{font-size:21px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px;padding-top:6px;border-top:2px solid #d9dee7}h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:12px 0 4px;text-transform:uppercase;letter-spacing:.04em;color:#5b6475}
section{margin-top:26px}
nav.contents{margin:10px 0 0;font-size:13px;display:flex;flex-wrap:wrap;gap:4px 14px}nav.contents a{white-space:nowrap;color:#0969da}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,480px),1fr));gap:16px;margin-bottom:8px}
figure.chart{margin:0;border:1px solid #d9dee7;border-radius:6px;padding:10px;min-width:0}
figcaption{font-weight:600;margin-bottom:6px}
.chart-body{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:flex-start}
.plot{flex:1 1 300px;min-width:0;width:100%;height:auto}
.plot-empty{min-height:120px;display:flex;align-items:center;justify-content:center;background:#f6f8fa;border-radius:4px;padding:12px;text-align:center}
.legend{flex:0 1 170px;list-style:none;margin:0;padding:0;font-size:12px;min-width:0}
.legend li{display:flex;align-items:center;gap:6px;margin:2px 0;overflow-wrap:anywhere}
.swatch{display:inline-block;width:14px;height:10px;background:var(--c);border-radius:2px;flex:0 0 auto}
.swatch.dashed{height:0;border-top:2px dashed var(--c);background:none}
.axis{stroke:#8a93a6}.grid-line{stroke:#eef1f5}.tick{font-size:11px;fill:#5b6475}.axis-title{font-size:11px;fill:#5b6475}
.series{fill:none;stroke-width:2}.reference{stroke-width:1.2;stroke-dasharray:5 4}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin-bottom:8px}
.figure{border:1px solid #d9dee7;border-radius:6px;padding:8px 10px}.figure-value{font-size:22px;font-weight:650}.figure-label{font-weight:600}.figure-detail{color:#5b6475;font-size:12px}
.hbars{list-style:none;padding:0;margin:0;max-width:820px}.hbars li{display:grid;grid-template-columns:minmax(0,2fr) minmax(60px,1fr) 3em;gap:8px;align-items:center;margin:3px 0;font-size:13px}
.hbar-label{overflow-wrap:anywhere}.hbar{background:#f6f8fa;height:12px;border-radius:2px}.hbar span{display:block;height:100%;background:#cf222e;border-radius:2px}.hbar-value{text-align:right}
.table-scroll{overflow-x:auto;max-width:100%;margin-bottom:8px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e5e9f0;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f6f8fa;white-space:nowrap}
table.nowrap td{white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;color:#fff;background:var(--c);white-space:nowrap}
article.experiment{border:1px solid #d9dee7;border-radius:6px;padding:4px 14px 10px;margin:14px 0}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,300px),1fr));gap:4px 24px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}dl.facts dt{color:#5b6475}dl.facts dd{margin:0;overflow-wrap:anywhere}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.muted{color:#5b6475;font-weight:400;font-size:13px}
.note{color:#5b6475;font-size:12px}.empty-state{color:#5b6475;font-style:italic;margin:6px 0}
table.gate{width:auto;min-width:min(100%,420px)}
code{font-size:12px;background:#f6f8fa;padding:1px 4px;border-radius:3px}
@media (max-width:600px){body{padding:12px}h1{font-size:18px}.tick,.axis-title{font-size:14px}}
`;
