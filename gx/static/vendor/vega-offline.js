/* Offline stand-in for vega-embed (arrears project; CC0). GX Data Docs draw a few charts (profiling
   and distribution expectations) with Vega from a CDN; the validation pages of this project do not need
   them. Where a page asks for a chart, this prints a short note instead of failing. */
(function () {
  window.vegaEmbed = function (selector) {
    var el = document.querySelector(selector);
    if (el) { el.textContent = "(chart not available offline)"; }
    return Promise.resolve({});
  };
})();
