// The /context view as the home gallery finds it (views/<key>.js): its preview lives with the
// placement panel.
export { preview } from "./context-panel.js";
