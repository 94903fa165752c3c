// The title rules, pure (no DOM, no page state): how the project joins a title and how an old
// suffix comes off. The page script (title_script.html.j2) includes this file; the tests run the
// same file in a real browser over generated names and formats (tests/test_title_rules.py).
//
// `format` is c.ProjectTitles.title_format ("{title} - {project}"), `names` every project name the
// page may show. Every comparison is made on text normalised as the browser's title getter does
// (ASCII whitespace collapsed, ends stripped), so names with runs of spaces, tabs or newlines still
// match what is shown. A name that shows as nothing (whitespace of any kind, e.g. a server root
// folder named " ") is no project: it adds nothing, not even a separator, and strips nothing.
function jupyterHelpersTitleRules(format, names) {
  "use strict";
  function collapse(text) { return String(text).replace(/[\t\n\f\r ]+/g, " "); }
  function norm(text) { return collapse(text).replace(/^ | $/g, ""); }
  function shows(name) { return typeof name === "string" && name.trim() !== ""; }

  // For each project, the text around the page's own title, as shown; fixed for the page's life.
  var parts = format.split("{title}");
  var edges = new Map();
  names.filter(shows).forEach(function (name) {
    function fill(text) { return collapse(text.split("{project}").join(name)); }
    edges.set(name, {name: norm(name), before: fill(parts[0]).replace(/^ /, ""),
                     after: fill(parts.slice(1).join("{title}")).replace(/ $/, "")});
  });

  // Takes off every project's suffix, repeatedly (a title may carry an old one under a new one).
  // Each pass that goes on has made the title shorter, so this ends for every name and format.
  function strip(title) {
    title = norm(title);
    for (var before = Infinity; title.length < before;) {
      before = title.length;
      edges.forEach(function (edge) {
        if (title === edge.name) { title = ""; }
        var around = edge.before.length + edge.after.length;
        if (title.length > around && title.slice(0, edge.before.length) === edge.before &&
            title.slice(title.length - edge.after.length) === edge.after) {
          title = norm(title.slice(edge.before.length, title.length - edge.after.length));
        }
      });
    }
    return title;
  }
  function decorate(base, name) {
    var edge = shows(name) ? edges.get(name) : undefined;
    if (!edge) { return base; }
    return base ? norm(edge.before + base + edge.after) : edge.name;
  }
  return {norm: norm, strip: strip, decorate: decorate};
}
