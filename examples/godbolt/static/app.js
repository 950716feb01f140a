// Turns the code textarea into a CodeMirror editor and keeps the textarea up to date, so
// htmx sends what is in the editor. Switching the language switches the highlighting.
(function () {
  var textarea = document.getElementById("code");
  var language = document.getElementById("language");
  var modeFor = { "c++": "text/x-c++src", "c": "text/x-csrc" };
  var editor = CodeMirror.fromTextArea(textarea, {
    mode: modeFor[language.value],
    lineNumbers: true,
    indentUnit: 4,
    matchBrackets: true,
    viewportMargin: Infinity,
  });
  editor.on("change", function () { editor.save(); });
  language.addEventListener("change", function () {
    editor.setOption("mode", modeFor[language.value]);
  });
  // Ctrl+Enter runs, as in most playgrounds.
  editor.setOption("extraKeys", {
    "Ctrl-Enter": function () { htmx.trigger("#compile-form", "submit"); },
  });
  window.godboltEditor = editor;
})();
