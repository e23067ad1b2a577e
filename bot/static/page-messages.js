// The page's words from the message catalogue: the server embeds its group of messages
// (page.kiosk.…, page.board.…) as JSON in <script type="application/json" id="page-messages">.
// pageText("page.kiosk.send") or pageText("page.board.go_to_counter", { counter: 3 }) fills
// a str.format-style template; an unknown id is shown as itself, never as "undefined".
(function () {
  "use strict";
  let messages = {};
  try { messages = JSON.parse(document.getElementById("page-messages").textContent); } catch (e) { /* none */ }

  function formatText(template, fields) {
    return String(template).replace(/\{\{|\}\}|\{(\w+)\}/g, (match, name) => {
      if (!name) return match[0];
      return fields && Object.prototype.hasOwnProperty.call(fields, name) ? String(fields[name]) : match;
    });
  }

  window.pageText = function (key, fields) {
    return key in messages ? formatText(messages[key], fields) : key;
  };
})();
