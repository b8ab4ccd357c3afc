import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { UploadDestinationsStack, stackPropsFromContext } from './stack.ts';

const app = new App();
new UploadDestinationsStack(app, 'UploadDestinations', stackPropsFromContext(app.node));
// Any finding not acknowledged (with its reason, beside the resource) fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
