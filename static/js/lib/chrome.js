// Site chrome for full pages: the theme toggle.
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
