// The /moe view as the home gallery finds it (views/<key>.js): its preview lives with the flow.
export { preview } from "./moe-flow.js";
