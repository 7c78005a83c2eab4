// Site chrome for full pages: the theme toggle, and closing the header's menus.
import { currentTheme, setTheme } from "./theme.js";

const toggle = document.getElementById("theme-toggle");
if (toggle) {
  const label = () => toggle.setAttribute("aria-pressed", String(currentTheme() === "dark"));
  label();
  toggle.addEventListener("click", () => {
    setTheme(currentTheme() === "dark" ? "light" : "dark");
    label();
  });
}

// The header's menus (one per section of views on wide screens, one "Menu" on phones) are
// native <details> and work without this; here an open one also closes on Escape (focus
// returns to its summary) and on a click or focus anywhere outside it.
const menus = [...document.querySelectorAll(".site-header details[data-menu]")];
for (const menu of menus) {
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}
const closeOutside = (event) => {
  for (const menu of menus) if (menu.open && !menu.contains(event.target)) menu.open = false;
};
document.addEventListener("click", closeOutside);
document.addEventListener("focusin", closeOutside);
