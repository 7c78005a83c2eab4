// Site chrome for full pages: the theme toggle, and closing the phone "Menu" disclosure.
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

// The menu is a native <details> and works without this; here it also closes on Escape
// (focus returns to its summary) and on a click or focus anywhere outside it.
const menu = document.getElementById("site-menu");
if (menu) {
  const summary = menu.querySelector("summary");
  const close = () => {
    menu.open = false;
  };
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      close();
      summary.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) close();
  });
  document.addEventListener("focusin", (event) => {
    if (menu.open && !menu.contains(event.target)) close();
  });
}
