export const tasks = [];
